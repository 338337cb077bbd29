package io.innerq.server;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Lets a request through only with {@code Authorization: Bearer <key>} where the SHA-256 of the key is one of
 * {@code innerq.api-keys}. The server keeps hashes only; the presented key's hash is compared with every stored one
 * in constant time ({@link MessageDigest#isEqual}), all of them, whatever matches.
 */
final class ApiKeyFilter extends OncePerRequestFilter {

    private final List<byte[]> hashes;
    private final JsonMapper json;

    /** @param hexHashes SHA-256 hashes of the accepted keys, 64 hex digits each */
    ApiKeyFilter(List<String> hexHashes, JsonMapper json) {
        this.hashes = hexHashes.stream().map(h -> HexFormat.of().parseHex(h.strip())).toList();
        this.json = json;
    }

    static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    boolean accepts(String key) {
        byte[] presented = sha256(key);
        boolean match = false;
        for (byte[] h : hashes) {
            match |= MessageDigest.isEqual(presented, h);
        }
        return match;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String header = request.getHeader("Authorization");
        String key = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                ? header.substring(7).strip() : null;
        if (key != null && !key.isEmpty() && accepts(key)) {
            chain.doFilter(request, response);
            return;
        }
        var error = new ApiException(HttpStatus.UNAUTHORIZED, "invalid_request_error", key == null || key.isEmpty()
                ? "no API key: send it as 'Authorization: Bearer <key>'"
                : "incorrect API key: this server accepts only the keys whose SHA-256 is in innerq.api-keys",
                null, "invalid_api_key");
        response.setStatus(error.status().value());
        response.setHeader("WWW-Authenticate", "Bearer");
        response.setContentType("application/json");
        json.writeValue(response.getOutputStream(), error.body());
    }
}

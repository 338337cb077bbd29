package io.innerq.server;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;

/**
 * Refuses a request body over {@code innerq.max-request-size} with 413: at once when its Content-Length says so,
 * otherwise when reading passes the limit.
 */
final class RequestSizeFilter extends OncePerRequestFilter {

    private final long maxBytes;
    private final JsonMapper json;

    RequestSizeFilter(long maxBytes, JsonMapper json) {
        this.maxBytes = maxBytes;
        this.json = json;
    }

    private ApiException error() {
        return new ApiException(HttpStatus.PAYLOAD_TOO_LARGE, "invalid_request_error",
                "the request body is over %d bytes (innerq.max-request-size): send a shorter prompt or raise the limit"
                        .formatted(maxBytes), null, "request_too_large");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (request.getContentLengthLong() > maxBytes) {
            ApiException e = error();
            response.setStatus(e.status().value());
            response.setContentType("application/json");
            json.writeValue(response.getOutputStream(), e.body());
            return;
        }
        chain.doFilter(new Limited(request), response);
    }

    /** The 413 in a body-reading failure's causes, if that is why it failed. */
    static ApiException tooLarge(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TooLargeException large) {
                return large.error;
            }
        }
        return null;
    }

    private static final class TooLargeException extends IOException {
        private final ApiException error;

        TooLargeException(ApiException error) {
            super(error.getMessage());
            this.error = error;
        }
    }

    private final class Limited extends HttpServletRequestWrapper {
        private ServletInputStream limited;

        Limited(HttpServletRequest request) {
            super(request);
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (limited == null) {
                ServletInputStream in = super.getInputStream();
                limited = new ServletInputStream() {
                    private long read;

                    private void count(long n) throws IOException {
                        read += n;
                        if (read > maxBytes) {
                            throw new TooLargeException(error());
                        }
                    }

                    @Override
                    public int read() throws IOException {
                        int b = in.read();
                        if (b >= 0) {
                            count(1);
                        }
                        return b;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        int n = in.read(b, off, len);
                        if (n > 0) {
                            count(n);
                        }
                        return n;
                    }

                    @Override
                    public boolean isFinished() {
                        return in.isFinished();
                    }

                    @Override
                    public boolean isReady() {
                        return in.isReady();
                    }

                    @Override
                    public void setReadListener(ReadListener listener) {
                        in.setReadListener(listener);
                    }
                };
            }
            return limited;
        }
    }
}

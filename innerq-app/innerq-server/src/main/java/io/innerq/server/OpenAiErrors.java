package io.innerq.server;

import io.innerq.engine.ContextLengthExceededException;
import io.innerq.serving.EngineBusyException;
import io.innerq.serving.KvBudgetExceededException;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.ErrorResponse;
import org.springframework.web.HttpMediaTypeNotAcceptableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.servlet.NoHandlerFoundException;
import org.springframework.web.servlet.resource.NoResourceFoundException;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

/**
 * Every error of the service in OpenAI's shape, {@code {"error": {"message", "type", "param", "code"}}}, whatever
 * handler (or none) the request reached: 400 for a request that cannot run as sent, 401 without a valid key
 * ({@link ApiKeyFilter}), 404 for an unknown route or a model this server does not run, 405, 406 and 415 for a
 * method, {@code Accept} header or content type the route does not take, 413 for a body over
 * {@code innerq.max-request-size}, 429 when the KV budget or the generation slots cannot take the request (with
 * {@code Retry-After} when waiting would help), 500 {@code server_error} for a fault of the server.
 *
 * <p>Spring MVC's own exceptions keep the status and headers they carry ({@link ErrorResponse}: {@code Allow},
 * {@code Accept}); the message is this class's, in the request's terms. A failure that is not the client's (any
 * other exception, the engine's included) is logged here with an error id, and the client gets only that id: no
 * exception text, no class name.
 */
@RestControllerAdvice
class OpenAiErrors {

    private static final Logger log = LoggerFactory.getLogger(OpenAiErrors.class);

    @ExceptionHandler(Exception.class)
    ResponseEntity<OpenAiApi.ErrorResponse> handle(Exception e, HttpServletRequest request) {
        return response(translate(e, request), e);
    }

    /** The answer to {@code api}, for {@code cause}; JSON whatever the request accepts. */
    static ResponseEntity<OpenAiApi.ErrorResponse> response(ApiException api, Throwable cause) {
        var response = ResponseEntity.status(api.status()).headers(api.headers())
                .contentType(MediaType.APPLICATION_JSON);
        if (cause instanceof EngineBusyException
                || (cause instanceof KvBudgetExceededException k && k.retryable())) {
            response.header(HttpHeaders.RETRY_AFTER, "1");
        }
        return response.body(api.body());
    }

    /** The error of {@code e} in OpenAI's terms; a failure of the server is logged, with what was requested. */
    static ApiException translate(Throwable e, HttpServletRequest request) {
        return switch (e) {
            case ApiException api -> api;
            case ContextLengthExceededException c -> new ApiException(HttpStatus.BAD_REQUEST,
                    ApiException.INVALID_REQUEST, c.getMessage(), null, "context_length_exceeded");
            case KvBudgetExceededException k -> new ApiException(HttpStatus.TOO_MANY_REQUESTS, "rate_limit_error",
                    k.getMessage(), null, "kv_budget_exceeded");
            case EngineBusyException b -> new ApiException(HttpStatus.TOO_MANY_REQUESTS, "rate_limit_error",
                    b.getMessage(), null, "server_busy");
            case HttpMessageNotReadableException r -> JsonErrors.translate(r);
            case ErrorResponse spring when spring.getStatusCode().is4xxClientError() -> clientError(spring, request);
            default -> serverError(e, request);
        };
    }

    /** {@link #translate(Throwable, HttpServletRequest)} where no request is at hand (a stream's, or a test's). */
    static ApiException translate(Throwable e) {
        return translate(e, null);
    }

    /** Logs a failure of the server under a new error id; the client's error carries only the id. */
    static ApiException serverError(Throwable e, HttpServletRequest request) {
        String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        if (request == null) {
            log.error("error {}: a request failed", id, e);
        } else {
            log.error("error {}: {} {} failed", id, request.getMethod(), request.getRequestURI(), e);
        }
        return ApiException.serverError(id);
    }

    /** The 4xx of Spring MVC's own checks (route, method, content type, Accept), with their headers. */
    private static ApiException clientError(ErrorResponse spring, HttpServletRequest request) {
        HttpStatus status = HttpStatus.valueOf(spring.getStatusCode().value());
        HttpHeaders headers = spring.getHeaders();
        String route = request == null ? "" : route(request.getMethod(), request.getRequestURI());
        return switch (spring) {
            case NoHandlerFoundException n -> unknownUrl(route);
            case NoResourceFoundException n -> unknownUrl(route);
            case HttpRequestMethodNotSupportedException m -> new ApiException(status, ApiException.INVALID_REQUEST,
                    "Invalid method for URL%s: it takes %s.".formatted(route, m.getSupportedHttpMethods() == null
                            ? "other methods" : m.getSupportedHttpMethods().stream().map(Object::toString)
                            .sorted().collect(Collectors.joining(", "))), null, "method_not_allowed", headers);
            case HttpMediaTypeNotSupportedException m -> new ApiException(status, ApiException.INVALID_REQUEST,
                    "Invalid Content-Type header %s: send the body as JSON, with 'Content-Type: application/json'."
                            .formatted(m.getContentType() == null || request == null
                                    || request.getContentType() == null ? "(none)"
                                    : "'" + OpenAiRequests.echo(request.getContentType()) + "'"),
                    null, "unsupported_media_type", headers);
            case HttpMediaTypeNotAcceptableException m -> new ApiException(status, ApiException.INVALID_REQUEST,
                    ("This URL answers with application/json (text/event-stream for a stream), which the Accept "
                            + "header '%s' does not take: accept application/json.").formatted(request == null
                            || request.getHeader(HttpHeaders.ACCEPT) == null ? ""
                            : OpenAiRequests.echo(request.getHeader(HttpHeaders.ACCEPT))),
                    null, "not_acceptable", headers);
            default -> new ApiException(status, ApiException.INVALID_REQUEST, "The request%s cannot be served: %s."
                    .formatted(route, status.getReasonPhrase().toLowerCase(java.util.Locale.ROOT)), null, null,
                    headers);
        };
    }

    /**
     * The error of a bare status, set where no exception says more (the container's error page, Tomcat's own
     * refusals); {@code route} as " (GET /x)".
     */
    static ApiException forStatus(int code, String route) {
        HttpStatus status = HttpStatus.resolve(code);
        if (status == null || status == HttpStatus.NOT_FOUND) {
            return unknownUrl(route);
        }
        if (status.is5xxServerError()) {
            return serverError(new IllegalStateException("the container answered " + code + route), null);
        }
        if (status == HttpStatus.BAD_REQUEST) {
            return new ApiException(status, ApiException.INVALID_REQUEST, ("The request%s is not one this server "
                    + "can read: its URL must not hold an encoded '/' or '\\' (%%2F, %%5C), a '..' above the root or "
                    + "an invalid %%-escape, and its headers must be valid HTTP.").formatted(route), null, null);
        }
        return new ApiException(status, status == HttpStatus.TOO_MANY_REQUESTS ? "rate_limit_error"
                : ApiException.INVALID_REQUEST, "The request%s cannot be served: %s.".formatted(route,
                status.getReasonPhrase().toLowerCase(java.util.Locale.ROOT)), null, null);
    }

    /** " (METHOD /path)" for a message, each part at most as long as a message repeats. */
    static String route(String method, String uri) {
        return " (%s %s)".formatted(OpenAiRequests.echo(String.valueOf(method)),
                OpenAiRequests.echo(String.valueOf(uri)));
    }

    /** The 404 of a route this service does not have; {@code route} as " (GET /x)". */
    static ApiException unknownUrl(String route) {
        return new ApiException(HttpStatus.NOT_FOUND, ApiException.INVALID_REQUEST, ("Invalid URL%s: this server "
                + "answers POST /v1/chat/completions, POST /v1/completions, GET /v1/models and GET /v1/models/{id}.")
                .formatted(route), null, "unknown_url");
    }
}

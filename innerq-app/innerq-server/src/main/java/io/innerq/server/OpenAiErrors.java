package io.innerq.server;

import io.innerq.serving.EngineBusyException;
import io.innerq.serving.KvBudgetExceededException;
import io.innerq.engine.ContextLengthExceededException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Every error of the OpenAI endpoints in OpenAI's shape, {@code {"error": {"message", "type", "param", "code"}}}:
 * 400 for a request that cannot run as sent, 404 for a model this server does not run, 413 for a body over
 * {@code innerq.max-request-size}, 429 when the KV budget or the generation slots cannot take the request
 * (with {@code Retry-After} when waiting would help), 500 for a fault of the server.
 */
@RestControllerAdvice(assignableTypes = OpenAiController.class)
class OpenAiErrors {

    private static final Logger log = LoggerFactory.getLogger(OpenAiErrors.class);

    @ExceptionHandler(Exception.class)
    ResponseEntity<OpenAiApi.ErrorResponse> handle(Exception e) {
        ApiException api = translate(e);
        var response = ResponseEntity.status(api.status()).contentType(MediaType.APPLICATION_JSON);
        if (e instanceof EngineBusyException
                || (e instanceof KvBudgetExceededException k && k.retryable())) {
            response.header("Retry-After", "1");
        }
        return response.body(api.body());
    }

    /** The error body of a failure, for a stream that has already begun. */
    static OpenAiApi.ErrorResponse body(Throwable e) {
        return translate(e).body();
    }

    static ApiException translate(Throwable e) {
        return switch (e) {
            case ApiException api -> api;
            case ContextLengthExceededException c -> new ApiException(HttpStatus.BAD_REQUEST,
                    "invalid_request_error", c.getMessage(), null, "context_length_exceeded");
            case KvBudgetExceededException k -> new ApiException(HttpStatus.TOO_MANY_REQUESTS, "rate_limit_error",
                    k.getMessage(), null, "kv_budget_exceeded");
            case EngineBusyException b -> new ApiException(HttpStatus.TOO_MANY_REQUESTS, "rate_limit_error",
                    b.getMessage(), null, "server_busy");
            case IllegalArgumentException i -> ApiException.invalid(i.getMessage(), null);
            case HttpMessageNotReadableException r when RequestSizeFilter.tooLarge(r) != null ->
                    RequestSizeFilter.tooLarge(r);
            case HttpMessageNotReadableException r -> ApiException.invalid(
                    "the request body is not the JSON this endpoint takes: " + r.getMostSpecificCause().getMessage(),
                    null);
            case HttpMediaTypeNotSupportedException m -> new ApiException(HttpStatus.UNSUPPORTED_MEDIA_TYPE,
                    "invalid_request_error", "send the request as JSON (Content-Type: application/json), not "
                    + m.getContentType(), null, null);
            default -> {
                log.error("request failed", e);
                yield new ApiException(HttpStatus.INTERNAL_SERVER_ERROR, "server_error",
                        "the server failed: " + e, null, null);
            }
        };
    }
}

package io.innerq.server;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;

/**
 * An HTTP API error in OpenAI's terms: status, error type, the parameter at fault (the JSON field as the client wrote
 * it, e.g. {@code messages[1].content}) and a code. The types are those OpenAI answers with:
 * {@code invalid_request_error} for every 4xx but 429 (401 and 404 included), {@code rate_limit_error} for 429,
 * {@code server_error} for 5xx. The codes are OpenAI's where it has one ({@code invalid_type},
 * {@code unknown_parameter}, {@code missing_required_parameter}, {@code integer_above_max_value}, ...).
 */
final class ApiException extends RuntimeException {

    static final String INVALID_REQUEST = "invalid_request_error";

    private final HttpStatus status;
    private final String type;
    private final String param;
    private final String code;
    private final HttpHeaders headers;

    ApiException(HttpStatus status, String type, String message, String param, String code) {
        this(status, type, message, param, code, HttpHeaders.EMPTY);
    }

    ApiException(HttpStatus status, String type, String message, String param, String code, HttpHeaders headers) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.headers = headers;
    }

    static ApiException invalid(String message, String param) {
        return invalid(message, param, null);
    }

    static ApiException invalid(String message, String param, String code) {
        return new ApiException(HttpStatus.BAD_REQUEST, INVALID_REQUEST, message, param, code);
    }

    /** A field of a JSON type other than the one it takes; {@code expected} and {@code got} as "an integer". */
    static ApiException invalidType(String param, String expected, String got) {
        return invalid("Invalid type for '%s': expected %s, but got %s instead.".formatted(param, expected, got),
                param, "invalid_type");
    }

    /** A field InnerQ does not implement, with a value that asks for it; {@code instead}: what may be sent, or null. */
    static ApiException unsupported(String param, String why, String instead) {
        return invalid("'%s' is not supported by InnerQ: %s. Remove it%s.".formatted(param, why,
                instead == null ? "" : ", or send " + instead), param, "unsupported_parameter");
    }

    /** A field InnerQ takes, with a value it does not support. */
    static ApiException unsupportedValue(String param, String message) {
        return invalid(message, param, "unsupported_value");
    }

    static ApiException unknownParameter(String param) {
        return invalid(("Unrecognized request argument supplied: '%s'. InnerQ takes OpenAI's parameters and its own "
                + "top_k, min_p, repeat_penalty, repetition_penalty and kv_cache_mode: remove it.").formatted(param),
                param, "unknown_parameter");
    }

    static ApiException missing(String param) {
        return invalid("Missing required parameter: '%s'.".formatted(param), param, "missing_required_parameter");
    }

    /** A number out of range: {@code code} says which side, as OpenAI's codes do. */
    static ApiException outOfRange(String param, boolean integer, boolean below, String message) {
        return invalid(message, param, (integer ? "integer_" : "decimal_") + (below ? "below_min_value"
                : "above_max_value"));
    }

    /**
     * A failure of the server, told to the client as OpenAI does: no cause, only the id under which the server
     * logged it.
     */
    static ApiException serverError(String errorId) {
        return new ApiException(HttpStatus.INTERNAL_SERVER_ERROR, "server_error", ("The server had an error while "
                + "processing your request (error id %s). It is logged on the server under that id: retry the "
                + "request, or tell the server's operator the id if it fails again.").formatted(errorId), null, null);
    }

    HttpStatus status() {
        return status;
    }

    String type() {
        return type;
    }

    String param() {
        return param;
    }

    String code() {
        return code;
    }

    /** Headers the answer carries ({@code Allow} of a 405, {@code Accept} of a 415). */
    HttpHeaders headers() {
        return headers;
    }

    OpenAiApi.ErrorResponse body() {
        return new OpenAiApi.ErrorResponse(new OpenAiApi.ErrorBody(getMessage(), type, param, code));
    }
}

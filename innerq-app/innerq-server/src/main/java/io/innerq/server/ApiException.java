package io.innerq.server;

import org.springframework.http.HttpStatus;

/** An HTTP API error in OpenAI's terms: status, error type, the parameter at fault and a code. */
final class ApiException extends RuntimeException {

    private final HttpStatus status;
    private final String type;
    private final String param;
    private final String code;

    ApiException(HttpStatus status, String type, String message, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    static ApiException invalid(String message, String param) {
        return new ApiException(HttpStatus.BAD_REQUEST, "invalid_request_error", message, param, null);
    }

    static ApiException unsupported(String param, String what) {
        return new ApiException(HttpStatus.BAD_REQUEST, "invalid_request_error",
                what + " is not supported by InnerQ: remove '" + param + "' from the request", param,
                "unsupported_parameter");
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

    OpenAiApi.ErrorResponse body() {
        return new OpenAiApi.ErrorResponse(new OpenAiApi.ErrorBody(getMessage(), type, param, code));
    }
}

package io.innerq.server;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.boot.webmvc.error.ErrorAttributes;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.ServletWebRequest;

/**
 * The container's error page in OpenAI's shape, in place of Spring Boot's {@code BasicErrorController}: what fails
 * outside Spring MVC's handlers (a filter's exception, an error status the container sets) is answered as
 * {@link OpenAiErrors} answers the rest. A request for {@code /error} itself is a 404, as for any unknown route.
 */
@RestController
class OpenAiErrorController implements ErrorController {

    private final ErrorAttributes errors;

    OpenAiErrorController(ErrorAttributes errors) {
        this.errors = errors;
    }

    @RequestMapping("${server.error.path:${error.path:/error}}")
    ResponseEntity<OpenAiApi.ErrorResponse> error(HttpServletRequest request) {
        Throwable failure = errors.getError(new ServletWebRequest(request));
        if (failure != null) {
            return OpenAiErrors.response(OpenAiErrors.translate(failure, request), failure);
        }
        String uri = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI) instanceof String u ? u
                : request.getRequestURI();
        ApiException api = OpenAiErrors.forStatus(request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE)
                instanceof Integer code ? code : HttpStatus.NOT_FOUND.value(), OpenAiErrors.route(request.getMethod(), uri));
        return OpenAiErrors.response(api, null);
    }
}

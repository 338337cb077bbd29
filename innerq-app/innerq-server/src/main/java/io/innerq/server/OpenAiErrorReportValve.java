package io.innerq.server;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.PrintWriter;

/**
 * Tomcat's report of an error it answers by itself, before or without the application (an encoded '/' in the URL, a
 * bad %-escape), in OpenAI's shape instead of Tomcat's HTML page. It takes the place of the host's
 * {@link ErrorReportValve}; what reaches the application is answered by {@link OpenAiErrors} and
 * {@link OpenAiErrorController}, and never gets here.
 */
final class OpenAiErrorReportValve extends ErrorReportValve {

    private final JsonMapper json;

    OpenAiErrorReportValve(JsonMapper json) {
        this.json = json;
    }

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        ApiException error = OpenAiErrors.forStatus(status, OpenAiErrors.route(request.getMethod(),
                request.getRequestURI()));
        try {
            response.setContentType("application/json");
            response.setCharacterEncoding("UTF-8");
            PrintWriter writer = response.getReporter();
            if (writer != null) {
                writer.write(json.writeValueAsString(error.body()));
                writer.flush();
            }
        } catch (IOException | IllegalStateException e) {
            // the connection is gone, or the response could not take a body: the status stays
        }
    }
}

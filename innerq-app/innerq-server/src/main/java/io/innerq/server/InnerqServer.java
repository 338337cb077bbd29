package io.innerq.server;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The InnerQ service: the model behind an OpenAI-compatible HTTP API, the Spring AI {@code ChatModel} and the
 * actuator. {@code ./innerq serve [--property=value ...]} starts it; see {@code application.properties} for the
 * defaults (127.0.0.1:8080).
 */
@SpringBootApplication
public class InnerqServer {

    public static void main(String[] args) {
        SpringApplication.run(InnerqServer.class, args);
    }
}

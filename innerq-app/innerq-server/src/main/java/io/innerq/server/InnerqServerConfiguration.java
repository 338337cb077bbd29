package io.innerq.server;

import io.innerq.ai.InnerqChatModel;
import io.innerq.ai.InnerqChatObservations;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.ai.chat.observation.ChatModelObservationConvention;
import org.springframework.beans.factory.ObjectProvider;
import io.innerq.serving.InnerqEngine;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Valve;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.type.LogicalType;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The HTTP edge: API keys and the body size limit on {@code /v1/*}, JSON types as strict as OpenAI's, Tomcat's own
 * errors in OpenAI's shape, and the checks of request bodies.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(InnerqServerProperties.class)
class InnerqServerConfiguration {

    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");

    @Bean
    FilterRegistrationBean<ApiKeyFilter> innerqApiKeyFilter(InnerqServerProperties properties, Environment env,
                                                            JsonMapper json) {
        List<String> keys = properties.apiKeys().stream().filter(k -> !k.isBlank()).toList();
        for (int i = 0; i < keys.size(); i++) {
            if (!SHA256_HEX.matcher(keys.get(i).strip()).matches()) {
                throw new ServerConfigurationException(("innerq.api-keys holds SHA-256 hashes of the keys (64 hex digits), "
                        + "but entry %d is not one: store printf %%s \"$KEY\" | sha256sum, never the key itself")
                        .formatted(i));
            }
        }
        String address = env.getProperty("server.address");
        boolean required = properties.requireApiKeys() != null ? properties.requireApiKeys() : !isLoopback(address);
        if (required && keys.isEmpty()) {
            String why = properties.requireApiKeys() != null ? "innerq.require-api-keys is true"
                    : "the server listens on %s, beyond loopback,".formatted(
                    address == null || address.isBlank() ? "every address" : address);
            throw new ServerConfigurationException(("%s and innerq.api-keys is empty: set innerq.api-keys to the SHA-256 "
                    + "hashes of your keys (printf %%s \"$KEY\" | sha256sum), bind to loopback "
                    + "(server.address=127.0.0.1), or set innerq.require-api-keys=false to serve without keys")
                    .formatted(why));
        }
        var registration = new FilterRegistrationBean<>(new ApiKeyFilter(keys, json));
        registration.addUrlPatterns("/v1/*");
        registration.setOrder(1);
        registration.setEnabled(!keys.isEmpty());
        return registration;
    }

    @Bean
    FilterRegistrationBean<RequestSizeFilter> innerqRequestSizeFilter(InnerqServerProperties properties,
                                                                      JsonMapper json) {
        var registration = new FilterRegistrationBean<>(
                new RequestSizeFilter(properties.maxRequestSize().toBytes(), json));
        registration.addUrlPatterns("/v1/*");
        registration.setOrder(2);
        return registration;
    }

    @Bean
    OpenAiRequests innerqOpenAiRequests(InnerqEngine engine, InnerqChatModel chatModel,
                                        InnerqServerProperties properties) {
        return new OpenAiRequests(engine, chatModel.getOptions().toGenerationOptions(), properties);
    }

    /** Tomcat's own error answers (before the application) in OpenAI's shape: its host's error report replaced. */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> innerqTomcatErrorReport(JsonMapper json) {
        return factory -> factory.addContextCustomizers(context -> context.addLifecycleListener(event -> {
            if (Lifecycle.BEFORE_START_EVENT.equals(event.getType()) && context.getParent() != null) {
                Pipeline host = context.getParent().getPipeline();
                for (Valve valve : host.getValves()) {
                    if (valve.getClass() == ErrorReportValve.class) {
                        host.removeValve(valve);
                    }
                }
                host.addValve(new OpenAiErrorReportValve(json));
            }
        }));
    }

    /**
     * JSON types as OpenAI's API takes them: no string for a number or a boolean, no decimal for an integer, no
     * number or boolean for a string ({@code "max_tokens": "12"}, {@code 1.5} or {@code "stream": 1} are refused
     * with the field's name, not read as something else).
     */
    @Bean
    JsonMapperBuilderCustomizer innerqStrictJsonTypes() {
        return builder -> builder
                .withCoercionConfig(LogicalType.Integer, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
                .withCoercionConfig(LogicalType.Float, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
                .withCoercionConfig(LogicalType.Boolean, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail))
                .withCoercionConfig(LogicalType.Textual, c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail));
    }

    /** The API's generations observed as the ChatModel's are (the same gen_ai.* metrics and spans). */
    @Bean
    InnerqChatObservations innerqApiObservations(ObjectProvider<ObservationRegistry> registry,
                                                 ObjectProvider<ChatModelObservationConvention> convention) {
        var observations = new InnerqChatObservations(registry.getIfUnique(() -> ObservationRegistry.NOOP));
        convention.ifAvailable(observations::setConvention);
        return observations;
    }

    static boolean isLoopback(String address) {
        if (address == null || address.isBlank()) {
            return false; // every interface
        }
        try {
            return InetAddress.getByName(address.strip()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}

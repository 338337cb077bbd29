package io.innerq.app.server;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.util.List;

/**
 * The HTTP API, under {@code innerq.*}.
 *
 * @param apiKeys         SHA-256 hashes (hex) of the accepted API keys ({@code printf %s "$KEY" | sha256sum});
 *                        when set, every {@code /v1} request needs one of the keys as a bearer token
 * @param requireApiKeys  whether keys are required; unset means: when the server binds beyond loopback
 * @param maxRequestSize  the largest request body taken
 */
@ConfigurationProperties("innerq")
record InnerqServerProperties(@DefaultValue List<String> apiKeys, Boolean requireApiKeys,
                              @DefaultValue("1MB") DataSize maxRequestSize) {
}

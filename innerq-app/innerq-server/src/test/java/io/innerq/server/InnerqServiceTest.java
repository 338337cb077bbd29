package io.innerq.server;

import io.innerq.testing.TestModels;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.util.TestPropertyValues;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.ContextConfiguration;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The one service configuration every Spring test uses, so that they all share one application context (one
 * model load, one server): the shared stories260K model, a small KV budget that a long fp32 request overflows,
 * short waits, and one API key, {@value #TEST_KEY}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@SpringBootTest(classes = InnerqServer.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
                "spring.ai.innerq.kv.budget=1MB",
                "spring.ai.innerq.queue-timeout=2s",
                "spring.ai.innerq.generation-timeout=20s",
                "innerq.api-keys=" + InnerqServiceTest.TEST_KEY_SHA256,
        })
@ContextConfiguration(initializers = InnerqServiceTest.TestModel.class)
public @interface InnerqServiceTest {

    String TEST_KEY = "test-key";
    /** {@code printf %s test-key | sha256sum} */
    String TEST_KEY_SHA256 = "62af8704764faf8ea82fc61ce9c4c3908b6cb97d463a634e9e587d7c885db0ef";

    /** Points {@code spring.ai.innerq.model} at the shared stories260K.gguf. */
    class TestModel implements ApplicationContextInitializer<ConfigurableApplicationContext> {
        @Override
        public void initialize(ConfigurableApplicationContext context) {
            TestPropertyValues.of("spring.ai.innerq.model=" + TestModels.stories260K()).applyTo(context);
        }
    }
}

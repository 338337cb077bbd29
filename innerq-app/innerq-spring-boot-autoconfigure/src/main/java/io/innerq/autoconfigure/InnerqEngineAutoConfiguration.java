package io.innerq.autoconfigure;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.innerq.serving.GpuCircuit;
import io.innerq.serving.GpuRuntime;
import io.innerq.serving.InnerqEngine;
import io.innerq.serving.ModelResolver;
import io.innerq.serving.ModelSource;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.info.InfoContributor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.io.IOException;
import java.util.Optional;

/**
 * The {@link InnerqEngine} from {@code spring.ai.innerq.*}: loads the model while the context starts (so nothing is
 * served, and readiness is not reported, before it is loaded). With the actuator on the class path: a health
 * indicator ({@code innerq}), an info contributor and the application's meters; with Resilience4j: a circuit breaker
 * around the GPU. An application that defines a {@link GpuRuntime} bean gives the engine its device (for the
 * {@code auto} and {@code vulkan} backends). Active when {@code spring.ai.model.chat} is {@code innerq} or unset.
 */
@AutoConfiguration
@ConditionalOnProperty(name = "spring.ai.model.chat", havingValue = "innerq", matchIfMissing = true)
@EnableConfigurationProperties(InnerqEngineProperties.class)
public class InnerqEngineAutoConfiguration {

    /** How an application names the model to load. */
    static final String MODEL_REMEDY = "Set " + InnerqEngineProperties.PREFIX + ".model to the path of a .gguf file "
            + "(innerq serve --model FILE), or download one with 'innerq pull NAME|URL'";

    private static final Logger log = LoggerFactory.getLogger(InnerqEngineAutoConfiguration.class);

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    InnerqEngine innerqEngine(InnerqEngineProperties properties, ObjectProvider<MeterRegistry> meters,
                              ObjectProvider<GpuCircuit> circuit, ObjectProvider<GpuRuntime> gpu) throws IOException {
        ModelSource model = ModelResolver.fromEnvironment().withRemedy(MODEL_REMEDY)
                .resolve(Optional.ofNullable(properties.model()).filter(m -> !m.isBlank()));
        long start = System.nanoTime();
        var opener = InnerqEngine.opener(model, properties.toSettings());
        meters.ifAvailable(opener::meters);
        circuit.ifAvailable(opener::gpuCircuit);
        gpu.ifAvailable(opener::gpu);
        InnerqEngine engine = opener.open();
        log.info("loaded {} in {} ms: {}", model.describe(), (System.nanoTime() - start) / 1_000_000,
                engine.describe());
        return engine;
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    static class Health {
        @Bean
        @ConditionalOnMissingBean(name = "innerqHealthIndicator")
        HealthIndicator innerqHealthIndicator(InnerqEngine engine) {
            return new InnerqHealthIndicator(engine);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(InfoContributor.class)
    static class Info {
        @Bean
        @ConditionalOnMissingBean(name = "innerqInfoContributor")
        InfoContributor innerqInfoContributor(InnerqEngine engine) {
            return new InnerqInfoContributor(engine);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(CircuitBreaker.class)
    static class Resilience {
        @Bean
        @ConditionalOnMissingBean
        GpuCircuit innerqGpuCircuit() {
            return new Resilience4jGpuCircuit();
        }
    }
}

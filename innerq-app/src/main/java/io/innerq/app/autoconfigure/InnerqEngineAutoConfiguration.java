package io.innerq.app.autoconfigure;

import io.innerq.app.ModelResolver;
import io.innerq.app.serving.GpuRuntime;
import io.innerq.app.serving.InnerqEngine;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.info.InfoContributor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The {@link InnerqEngine} from {@code innerq.*}: loads the model while the context starts (so nothing is served,
 * and readiness is not reported, before it is loaded), with a health indicator ({@code innerq}) and an info
 * contributor when the actuator is present. An application that defines a {@link GpuRuntime} bean gives the engine
 * its device (with {@code innerq.backend} vulkan or auto); otherwise the engine opens the one the backend asks for.
 */
@AutoConfiguration
@EnableConfigurationProperties(InnerqEngineProperties.class)
public class InnerqEngineAutoConfiguration {

    /** How the service is told which model to load. */
    static final String MODEL_REMEDY = "Set innerq.model to the path of a .gguf file (./innerq serve --model FILE, "
            + "--innerq.model=FILE or INNERQ_MODEL=FILE), or download one with 'innerq pull NAME'";

    private static final Logger log = LoggerFactory.getLogger(InnerqEngineAutoConfiguration.class);

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    InnerqEngine innerqEngine(InnerqEngineProperties properties, ObjectProvider<MeterRegistry> meters,
                              ObjectProvider<GpuRuntime> gpu) throws IOException {
        Path path = ModelResolver.fromEnvironment().withRemedy(MODEL_REMEDY)
                .resolve(Optional.ofNullable(properties.model()).filter(m -> !m.isBlank()));
        long start = System.nanoTime();
        var settings = properties.toSettings();
        var registry = meters.getIfAvailable(SimpleMeterRegistry::new);
        GpuRuntime given = gpu.getIfAvailable();
        var engine = given != null && !settings.backend().equals("cpu") && !settings.backend().equals("scalar")
                ? InnerqEngine.open(path, settings, registry, given) // an application's own device
                : InnerqEngine.open(path, settings, registry);
        log.info("loaded {} in {} ms: {}", path, (System.nanoTime() - start) / 1_000_000, engine.describe());
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
}

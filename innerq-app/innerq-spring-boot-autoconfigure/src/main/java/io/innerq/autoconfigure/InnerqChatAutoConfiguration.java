package io.innerq.autoconfigure;

import io.innerq.ai.InnerqChatModel;
import io.innerq.serving.InnerqEngine;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.observation.ChatModelObservationConvention;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The Spring AI {@link ChatModel} of InnerQ, active when {@code spring.ai.model.chat} is {@code innerq} or unset;
 * default options from {@code spring.ai.innerq.chat.options.*}.
 */
@AutoConfiguration(after = InnerqEngineAutoConfiguration.class)
@ConditionalOnClass(ChatModel.class)
@ConditionalOnProperty(name = "spring.ai.model.chat", havingValue = InnerqChatModel.PROVIDER, matchIfMissing = true)
@EnableConfigurationProperties(InnerqChatProperties.class)
public class InnerqChatAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    InnerqChatModel innerqChatModel(InnerqEngine engine, InnerqChatProperties properties,
                                    ObjectProvider<ObservationRegistry> observations,
                                    ObjectProvider<ChatModelObservationConvention> convention) {
        var model = new InnerqChatModel(engine, properties.toOptions(),
                observations.getIfUnique(() -> ObservationRegistry.NOOP));
        convention.ifAvailable(model::setObservationConvention);
        return model;
    }
}

package com.example.chat;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.util.ClassUtils;

import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The application as its users run it: the starter's ChatModel through ChatClient, and nothing else of InnerQ's. */
@SpringBootTest
@ActiveProfiles("test")
class ChatApplicationTests {

    @Autowired
    StoryTeller teller;

    @Autowired
    ChatModel chatModel;

    @Autowired
    ApplicationContext context;

    @Autowired
    ConfigurableEnvironment environment;

    @Autowired
    MeterRegistry meters;

    @Test
    void callsAndStreamsTheEmbeddedModel() {
        String story = teller.begin("Once upon a time");
        assertThat(story).startsWith("Once upon a time, there was a little girl");
        String streamed = String.join("", teller.stream("Once upon a time").collectList().block());
        assertThat("Once upon a time" + streamed).isEqualTo(story);
        assertThat(chatModel.getClass().getName()).isEqualTo("io.innerq.ai.InnerqChatModel");
        assertThat(chatModel.getOptions().getModel()).isEqualTo("stories260K");
    }

    @Test
    void noWebServerStarts() {
        assertThat(context.getClass().getName()).doesNotContain("Web");
        assertThat(environment.getProperty("local.server.port")).isNull();
        for (String server : List.of("org.apache.catalina.startup.Tomcat", "org.eclipse.jetty.server.Server",
                "io.undertow.Undertow", "reactor.netty.http.server.HttpServer",
                "org.springframework.web.servlet.DispatcherServlet")) {
            assertThat(ClassUtils.isPresent(server, null)).as(server + " on the class path").isFalse();
        }
    }

    @Test
    void theLibrarySetsNoServerOrManagementProperty() throws IOException {
        // no application.properties or application.yml in any jar: only this application's own
        for (String name : List.of("application.properties", "application.yml", "application.yaml")) {
            List<URL> found = Collections.list(getClass().getClassLoader().getResources(name));
            assertThat(found).as(name).allSatisfy(url -> assertThat(url.getProtocol()).isEqualTo("file"));
        }
        var offending = new ArrayList<String>();
        for (var source : environment.getPropertySources()) {
            if (source instanceof EnumerablePropertySource<?> e) {
                for (String key : e.getPropertyNames()) {
                    if (key.startsWith("server.") || key.startsWith("management.")) {
                        offending.add(source.getName() + ": " + key);
                    }
                }
            }
        }
        assertThat(offending).isEmpty();
    }

    @Test
    void chatCallsAreRecordedAsGenAiMetrics() {
        teller.begin("Once upon a time");
        teller.stream("Once upon a time").blockLast();
        var timers = meters.find("gen_ai.client.operation").tag("gen_ai.system", "innerq").timers();
        assertThat(timers).isNotEmpty();
        assertThat(timers.stream().mapToLong(t -> t.count()).sum()).isGreaterThanOrEqualTo(2);
        assertThat(meters.find("innerq.generations").counters()).isNotEmpty();
    }
}

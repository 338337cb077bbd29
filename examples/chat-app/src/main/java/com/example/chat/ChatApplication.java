package com.example.chat;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Profile;

/** Asks the model for a story and prints it: InnerQ's ChatModel, found by Spring AI's ChatClient.Builder. */
@SpringBootApplication
public class ChatApplication {

    public static void main(String[] args) {
        SpringApplication.run(ChatApplication.class, args);
    }

    @Bean
    StoryTeller storyTeller(ChatClient.Builder chat) {
        return new StoryTeller(chat.build());
    }

    @Bean
    @Profile("!test")
    ApplicationRunner tellAStory(StoryTeller teller) {
        return args -> System.out.println(teller.begin("Once upon a time"));
    }
}

package com.example.chat;

import org.springframework.ai.chat.client.ChatClient;
import reactor.core.publisher.Flux;

/** Continues stories: one call for the whole text, or a stream of pieces as they are generated. */
public class StoryTeller {

    private final ChatClient chat;

    public StoryTeller(ChatClient chat) {
        this.chat = chat;
    }

    public String begin(String opening) {
        return opening + chat.prompt().user(opening).call().content();
    }

    public Flux<String> stream(String opening) {
        return chat.prompt().user(opening).stream().content();
    }
}

package io.kvcache.samples.chatbot;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * A chat page over the kvcache starter: the starter supplies the {@code ChatModel} and
 * {@code /actuator/kvcache}; this application adds the conversations, the REST and SSE endpoints
 * and the page that draws the cache.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class ChatbotApplication {
    public static void main(String[] args) {
        SpringApplication.run(ChatbotApplication.class, args);
    }
}

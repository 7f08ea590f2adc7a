package io.kvcache.samples.chatbot;

import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/** Puts {@link RequestSizeLimit} first in the filter chain, before Spring Security reads anything. */
@Configuration(proxyBeanMethods = false)
class RequestSizeLimitConfiguration {

    @Bean
    FilterRegistrationBean<RequestSizeLimit> requestSizeLimit(ChatbotProperties properties) {
        FilterRegistrationBean<RequestSizeLimit> registration =
                new FilterRegistrationBean<>(new RequestSizeLimit(properties.requestBytesLimit()));
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return registration;
    }
}

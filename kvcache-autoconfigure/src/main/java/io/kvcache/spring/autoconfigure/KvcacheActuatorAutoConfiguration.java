package io.kvcache.spring.autoconfigure;

import io.kvcache.spring.actuate.KvcacheEndpoint;
import io.kvcache.spring.actuate.KvcacheHealthIndicator;
import io.kvcache.spring.chat.KvcacheEngine;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The {@code kvcache} Actuator endpoint and health indicator, where Actuator is on the classpath. */
@AutoConfiguration(after = KvcacheAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
@ConditionalOnBean(KvcacheEngine.class)
public class KvcacheActuatorAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnAvailableEndpoint
    KvcacheEndpoint kvcacheEndpoint(KvcacheEngine engine) {
        return new KvcacheEndpoint(engine);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    static class Health {
        @Bean
        @ConditionalOnMissingBean(name = "kvcacheHealthIndicator")
        KvcacheHealthIndicator kvcacheHealthIndicator(KvcacheEngine engine) {
            return new KvcacheHealthIndicator(engine);
        }
    }
}

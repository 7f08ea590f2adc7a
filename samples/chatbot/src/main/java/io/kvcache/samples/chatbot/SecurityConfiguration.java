package io.kvcache.samples.chatbot;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.context.NoOpServerSecurityContextRepository;
import org.springframework.security.web.server.csrf.CsrfWebFilter;
import org.springframework.security.web.server.util.matcher.AndServerWebExchangeMatcher;
import org.springframework.security.web.server.util.matcher.NegatedServerWebExchangeMatcher;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatchers;

/**
 * Who may read what. {@code /actuator/health} is open (load balancers probe it). {@code
 * /actuator/kvcache/{conversation}} is open to whoever knows the conversation id: the server issues
 * it as a random UUID to the page that started the conversation, so the id is the capability, and
 * the view holds only sizes and policies, never text. Everything else under {@code /actuator}
 * (the engine summary, any endpoint an operator exposes later) needs the operator's HTTP basic
 * login, {@code spring.security.user.name}/{@code password} (Boot generates and logs a password
 * when none is set). The page and {@code /api/chat} need no login.
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {

    @Bean
    SecurityWebFilterChain chatbotSecurity(ServerHttpSecurity http) {
        return http
                .authorizeExchange(exchanges -> exchanges
                        .pathMatchers("/actuator/health", "/actuator/health/**").permitAll()
                        .pathMatchers(HttpMethod.GET, "/actuator/kvcache/*").permitAll()
                        .pathMatchers("/actuator", "/actuator/**").authenticated()
                        .anyExchange().permitAll())
                .httpBasic(Customizer.withDefaults())
                // No session and no cookie: the page keeps its conversation id in JavaScript and
                // operators send their credentials with every request.
                .securityContextRepository(NoOpServerSecurityContextRepository.getInstance())
                // CSRF abuses credentials a browser attaches by itself (cookies, a cached basic
                // login). /api/chat takes none: it needs no login and sets no cookie, so a forged
                // cross-site request can do nothing its sender could not do directly, and its JSON
                // clients (curl, the page's fetch) have no token to send. The operator endpoints
                // are read-only GETs, which CSRF protection never checks.
                .csrf(csrf -> csrf.requireCsrfProtectionMatcher(new AndServerWebExchangeMatcher(
                        CsrfWebFilter.DEFAULT_CSRF_MATCHER,
                        new NegatedServerWebExchangeMatcher(ServerWebExchangeMatchers.pathMatchers("/api/**")))))
                .build();
    }
}

/**
 * The Spring side of kvcache, by role: {@code chat} (the Spring AI chat model, its options, prompt
 * rendering, the conversation store and admission), {@code model} (finding and downloading the model
 * file), {@code actuate} (the Actuator endpoint, health and meters) and {@code autoconfigure} (the
 * Spring Boot auto-configuration and the {@code kvcache.*} properties, the only package that knows
 * them). This package holds what they share.
 */
package io.kvcache.spring;

/**
 * The Spring Boot side: the {@code kvcache.*} properties, the Spring AI chat model, the conversation
 * store and admission, the model locator and downloader, and the Actuator endpoint, health and
 * metrics.
 */
package io.kvcache.spring;

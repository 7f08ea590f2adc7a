/**
 * The sample chatbot: a Spring Boot chat page on the starter with streamed replies, REST, and a
 * live view of {@code /actuator/kvcache}.
 */
package io.kvcache.samples.chatbot;

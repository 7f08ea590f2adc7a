/**
 * The Spring Boot auto-configuration of kvcache and its {@code kvcache.*} properties, split by
 * concern: the top level, the model, the cache policy, the sessions and the chat defaults.
 */
package io.kvcache.spring.autoconfigure;

/**
 * What an operator sees: the {@code /actuator/kvcache} endpoint (per layer and KV head, the policy
 * and the memory it saves), the health indicator and kvcache's Micrometer meters.
 */
package io.kvcache.spring.actuate;

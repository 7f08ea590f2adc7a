/**
 * The Spring AI chat model of kvcache and what it runs on: {@link io.kvcache.spring.chat.KvcacheEngine}
 * (model, backend, cache policy, memory budget, stored conversations), the options of a request,
 * prompt rendering with the model's chat template, the conversation store that lets a follow-up
 * turn continue a cache, and admission of turns within the slots and the memory budget. Free of
 * Spring Boot: an application may build a {@link io.kvcache.spring.chat.KvcacheChatModel} itself.
 */
package io.kvcache.spring.chat;

/**
 * Chat templates: the model's own Jinja template rendered as llama.cpp renders it, with the
 * Python string, JSON and slicing behaviour templates rely on.
 */
package io.kvcache.core.chat;

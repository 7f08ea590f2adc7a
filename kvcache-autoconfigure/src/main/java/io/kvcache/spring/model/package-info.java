/**
 * Finding the model file {@code kvcache.model.*} names: on disk, on the classpath, or downloaded
 * once (http(s) or {@code hf:} URLs, resumed, checked against a SHA-256). Usable without Spring Boot.
 */
package io.kvcache.spring.model;

package io.kvcache.spring.model;

/** The model named by {@code kvcache.model.*} is not there; the message says where it looked and how to fix it. */
public class ModelNotFoundException extends IllegalStateException {
    public ModelNotFoundException(String message) {
        super(message);
    }
}

package io.kvcache.core.chat;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.Iterator;
import java.util.function.Supplier;

/**
 * Whether a render reads one value, the question llama.cpp's capability probes ask of a template
 * (does it read a tool call's argument inside an object?). A value counts as read, as llama.cpp
 * counts it, when an expression names a variable holding it, takes it out of a dict or list, or
 * dumps a structure holding it ({@code tojson}, {@code string}); being printed inside a whole dict
 * does not count. The watched value is one instance, told apart by identity, and watching is per
 * thread because Jinjava renders on the caller's thread.
 */
final class ValueReads {
    private static final ThreadLocal<ValueReads> WATCHING = new ThreadLocal<>();

    private final Object watched;
    private boolean read;

    private ValueReads(Object watched) {
        this.watched = watched;
    }

    /** Runs {@code render} watching {@code watched}; whether it was read. */
    static boolean readDuring(Object watched, Runnable render) {
        ValueReads previous = WATCHING.get();
        ValueReads reads = new ValueReads(watched);
        WATCHING.set(reads);
        try {
            render.run();
        } finally {
            WATCHING.set(previous);
        }
        return reads.read;
    }

    /** Notes that the template read {@code value}; returns it. */
    static <T> T note(T value) {
        ValueReads reads = WATCHING.get();
        if (reads != null && value != null && value == reads.watched) {
            reads.read = true;
        }
        return value;
    }

    /** A resolver that notes each value it takes out of a dict, list or object, resolving as {@code resolver}. */
    static ELResolver noting(ELResolver resolver) {
        return new Noting(resolver);
    }

    private static final class Noting extends ELResolver {
        private final ELResolver resolver;

        Noting(ELResolver resolver) {
            this.resolver = resolver;
        }

        @Override
        public Object getValue(ELContext context, Object base, Object property) {
            return note(resolver.getValue(context, base, property));
        }

        @Override
        public Class<?> getType(ELContext context, Object base, Object property) {
            return resolver.getType(context, base, property);
        }

        @Override
        public void setValue(ELContext context, Object base, Object property, Object value) {
            resolver.setValue(context, base, property, value);
        }

        @Override
        public boolean isReadOnly(ELContext context, Object base, Object property) {
            return resolver.isReadOnly(context, base, property);
        }

        @Override
        public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
            return resolver.getFeatureDescriptors(context, base);
        }

        @Override
        public Class<?> getCommonPropertyType(ELContext context, Object base) {
            return resolver.getCommonPropertyType(context, base);
        }

        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
            return resolver.invoke(context, base, method, paramTypes, params);
        }
    }
}

package io.kvcache.core.chat;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.Iterator;

/**
 * An expression-language resolver that only takes part in method calls ({@code invoke}): property
 * access is left to Jinjava's own resolvers, so every property operation here resolves nothing.
 */
abstract class MethodResolver extends ELResolver {
    @Override
    public final Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public final Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public final void setValue(ELContext context, Object base, Object property, Object value) {
    }

    @Override
    public final boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public final Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public final Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}

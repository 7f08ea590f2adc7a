package io.kvcache.spring;

import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.io.ResourceLoader;

/**
 * Loads the model named by {@code kvcache.model.path} and runs it with the configured KV-cache
 * policy. Backs off when the application defines its own {@link KvcacheEngine} or sets
 * {@code kvcache.enabled=false}.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = "kvcache", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(KvcacheProperties.class)
public class KvcacheAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    KvcacheEngine kvcacheEngine(KvcacheProperties properties, ResourceLoader resources) {
        if (properties.getBackend() == KvcacheProperties.Backend.CUDA) {
            throw new IllegalStateException("kvcache.backend=cuda: this build has no CUDA backend; "
                    + "use kvcache.backend=auto or cpu");
        }
        var policy = properties.policy();
        int threads = properties.getThreads() == 0 ? Runtime.getRuntime().availableProcessors() : properties.getThreads();
        Model model = Model.load(ModelLocator.locate(properties.getModel().getPath(), resources));
        ComputePool pool = new ComputePool(threads);
        try {
            int context = properties.getModel().getContextLength() == 0
                    ? model.config().contextLength() : properties.getModel().getContextLength();
            return new KvcacheEngine(model, pool, policy, context);
        } catch (RuntimeException e) {
            pool.close();
            model.close();
            throw e;
        }
    }
}

package io.kvcache.spring;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.io.ResourceLoader;
import org.springframework.util.unit.DataSize;

import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Loads the model named by {@code kvcache.model.path} (or downloads {@code kvcache.model.url}),
 * runs it with the configured KV-cache policy and memory budget, and offers it as a Spring AI
 * {@link ChatModel}. Backs off when the application defines its own beans or sets
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
        DataSize budget = properties.getMemory().getBudget();
        if (budget != null) {
            // Before the model is downloaded or loaded, which may take a while.
            MemoryBudget.requirePositive(budget.toBytes());
        }
        int threads = properties.getThreads() == 0 ? Runtime.getRuntime().availableProcessors() : properties.getThreads();
        Path file;
        try (ModelDownloader downloader = ModelDownloader.withDefaultClient()) {
            file = ModelLocator.locate(properties.getModel(), resources, downloader);
        }
        Model model = load(file, properties.getModel());
        ComputePool pool = new ComputePool(threads);
        try {
            int context = properties.getModel().getContextLength() == 0
                    ? model.config().contextLength() : properties.getModel().getContextLength();
            return new KvcacheEngine(model, pool, policy, context,
                    budget == null ? OptionalLong.empty() : OptionalLong.of(budget.toBytes()),
                    properties.getSessions().getMaxBytes().toBytes(), properties.getSessions().getExpireAfterAccess());
        } catch (RuntimeException e) {
            pool.close();
            model.close();
            throw e;
        }
    }

    /** Loads the file, saying which property named it when it is no model kvcache can read. */
    private static Model load(Path file, KvcacheProperties.ModelSource source) {
        try {
            return Model.load(file);
        } catch (ModelFormatException e) {
            boolean downloaded = source.getUrl() != null && !source.getUrl().isBlank();
            // The core's message names the file and what is wrong with it.
            throw new ModelFormatException((downloaded ? "kvcache.model.url=" + source.getUrl() + ": the downloaded file"
                    : "kvcache.model.path=" + source.getPath()) + " is not a model kvcache can load (" + e.getMessage() + "); "
                    + (downloaded ? "check the URL, and delete that file to download it again"
                    : "give a GGUF file (version 2 or 3) or a Hugging Face model folder"), e);
        }
    }

    @Bean
    @ConditionalOnMissingBean
    PromptRenderer kvcachePromptRenderer(KvcacheEngine engine) {
        return new PromptRenderer(engine.model());
    }

    @Bean
    @ConditionalOnMissingBean
    KvcacheMetrics kvcacheMetrics(KvcacheEngine engine, ObjectProvider<MeterRegistry> registry) {
        return new KvcacheMetrics(registry.getIfAvailable(SimpleMeterRegistry::new), engine);
    }

    @Bean
    @ConditionalOnMissingBean(ChatModel.class)
    KvcacheChatModel kvcacheChatModel(KvcacheEngine engine, PromptRenderer renderer, KvcacheProperties properties,
                                      ObjectProvider<ObservationRegistry> observations, KvcacheMetrics metrics) {
        return new KvcacheChatModel(engine, renderer, properties, observations.getIfAvailable(() -> ObservationRegistry.NOOP),
                metrics);
    }
}

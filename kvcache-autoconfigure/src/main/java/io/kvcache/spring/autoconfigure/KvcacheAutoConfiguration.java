package io.kvcache.spring.autoconfigure;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.backend.Backend;
import io.kvcache.core.backend.BackendProvider;
import io.kvcache.core.backend.BackendSelector;
import io.kvcache.core.backend.BackendSettings;
import io.kvcache.core.backend.WarmUp;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.Model;
import io.kvcache.spring.actuate.KvcacheMetrics;
import io.kvcache.spring.chat.ConversationStore;
import io.kvcache.spring.chat.KvcacheChatModel;
import io.kvcache.spring.chat.KvcacheEngine;
import io.kvcache.spring.chat.MemoryBudget;
import io.kvcache.spring.chat.PromptRenderer;
import io.kvcache.spring.model.ModelDownloader;
import io.kvcache.spring.model.ModelLocator;
import io.kvcache.spring.model.ModelSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.observation.ChatModelObservationConvention;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.io.ResourceLoader;
import org.springframework.util.unit.DataSize;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * Loads the model named by {@code kvcache.model.path} (or downloads {@code kvcache.model.url}),
 * runs it with the configured KV-cache policy and memory budget on the backend
 * {@code kvcache.backend} picks, and offers it as a Spring AI {@link ChatModel}. Backs off when the
 * application defines its own beans or sets {@code kvcache.enabled=false}.
 *
 * <p>Backends are those on the class path ({@link BackendSelector#installed()}: the CPU, and CUDA
 * with kvcache-cuda) plus any {@link BackendProvider} beans, which replace an installed backend of
 * the same name. The backend is chosen before the model is downloaded or loaded, so
 * {@code kvcache.backend=cuda} without a usable GPU fails at once, with the probe's reason.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = "kvcache", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties({KvcacheProperties.class, KvcacheModelProperties.class, KvcachePolicyProperties.class,
        KvcacheSessionsProperties.class, KvcacheChatProperties.class})
public class KvcacheAutoConfiguration {
    private static final Log log = LogFactory.getLog(KvcacheAutoConfiguration.class);

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    KvcacheEngine kvcacheEngine(KvcacheProperties properties, KvcacheModelProperties modelProperties,
                                KvcachePolicyProperties policyProperties, KvcacheSessionsProperties sessions,
                                ResourceLoader resources, ObjectProvider<BackendProvider> backendBeans,
                                ObjectProvider<ConversationStore> stores) {
        ConversationStore store = stores.getIfAvailable();
        if (sessions.getStore() == KvcacheSessionsProperties.Store.REDIS && store == null) {
            throw new IllegalStateException("kvcache.sessions.store=redis needs Spring Data Redis on the class path "
                    + "(add spring-boot-starter-data-redis) and a Redis connection (spring.data.redis.*)");
        }
        KvCacheConfig policy = policyProperties.cacheConfig();
        DataSize budget = properties.getMemory().getBudget();
        if (budget != null) {
            // Before the model is downloaded or loaded, which may take a while.
            MemoryBudget.requirePositive(budget.toBytes());
        }
        BackendSelector.Choice choice = BackendSelector.choose(properties.getBackend().name().toLowerCase(Locale.ROOT),
                policy, providers(backendBeans.orderedStream().toList()));
        log.info("kvcache backend: " + choice.provider().name() + " (" + choice.status().device() + ")"
                + (choice.passedOver().isEmpty() ? "" : "; passed over " + String.join("; ", choice.passedOver())));
        int threads = properties.getThreads() == 0 ? Runtime.getRuntime().availableProcessors() : properties.getThreads();
        Path file;
        try (ModelDownloader downloader = ModelDownloader.withDefaultClient()) {
            file = ModelLocator.locate(modelProperties.source(), resources, downloader);
        }
        Model model = load(file, modelProperties.source());
        Backend backend = null;
        try {
            int context = modelProperties.getContextLength() == 0
                    ? model.config().contextLength() : modelProperties.getContextLength();
            backend = choice.provider().open(model, new BackendSettings(threads, context, sessions.getMaxActive()));
            KvcacheEngine engine = new KvcacheEngine(model, backend, policy, context,
                    budget == null ? OptionalLong.empty() : OptionalLong.of(budget.toBytes()),
                    sessions.settings(), store);
            if (store != null) {
                log.info("kvcache sessions: conversations are also kept in " + store.name() + ", saved after each turn");
            }
            if (properties.isWarmUp()) {
                Duration took = WarmUp.run(engine.transformer(), policy, TokenClasses.of(model.tokenizer()));
                log.info("kvcache warm-up: " + took.toMillis() + " ms (kvcache.warm-up=false skips it)");
            }
            return engine;
        } catch (RuntimeException e) {
            if (backend != null) {
                backend.close();
            }
            model.close();
            throw e;
        }
    }

    /** Loads the file, saying which property named it when it is no model kvcache can read. */
    private static Model load(Path file, ModelSource source) {
        try {
            return Model.load(file);
        } catch (ModelFormatException e) {
            boolean downloaded = source.hasUrl();
            // The core's message names the file and what is wrong with it.
            throw new ModelFormatException((downloaded ? "kvcache.model.url=" + source.url() + ": the downloaded file"
                    : "kvcache.model.path=" + source.path()) + " is not a model kvcache can load (" + e.getMessage() + "); "
                    + (downloaded ? "check the URL, and delete that file to download it again"
                    : "give a GGUF file (version 2 or 3) or a Hugging Face model folder"), e);
        }
    }

    /** The installed backends, with those defined as beans in place of installed ones of the same name. */
    static List<BackendProvider> providers(List<BackendProvider> beans) {
        List<BackendProvider> providers = new ArrayList<>(beans);
        for (BackendProvider installed : BackendSelector.installed()) {
            if (beans.stream().noneMatch(bean -> bean.name().equals(installed.name()))) {
                providers.add(installed);
            }
        }
        return providers;
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
    KvcacheChatModel kvcacheChatModel(KvcacheEngine engine, PromptRenderer renderer, KvcacheChatProperties chat,
                                      KvcacheSessionsProperties sessions, ObjectProvider<ObservationRegistry> observations,
                                      ObjectProvider<ChatModelObservationConvention> convention, KvcacheMetrics metrics) {
        KvcacheChatModel.Builder builder = KvcacheChatModel.builder().engine(engine).renderer(renderer)
                .defaultOptions(chat.options()).maxActive(sessions.getMaxActive()).maxWait(sessions.getMaxWait())
                .observationRegistry(observations.getIfAvailable(() -> ObservationRegistry.NOOP)).turnObserver(metrics);
        convention.ifAvailable(builder::observationConvention);
        return builder.build();
    }
}

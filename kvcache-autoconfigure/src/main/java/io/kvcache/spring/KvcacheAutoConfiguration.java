package io.kvcache.spring;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.backend.Backend;
import io.kvcache.core.backend.BackendProvider;
import io.kvcache.core.backend.BackendSelector;
import io.kvcache.core.backend.BackendSettings;
import io.kvcache.core.model.Model;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
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
@EnableConfigurationProperties(KvcacheProperties.class)
public class KvcacheAutoConfiguration {
    private static final Log log = LogFactory.getLog(KvcacheAutoConfiguration.class);

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    KvcacheEngine kvcacheEngine(KvcacheProperties properties, ResourceLoader resources,
                                ObjectProvider<BackendProvider> backendBeans) {
        var policy = properties.policy();
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
            file = ModelLocator.locate(properties.getModel(), resources, downloader);
        }
        Model model = load(file, properties.getModel());
        Backend backend = null;
        try {
            int context = properties.getModel().getContextLength() == 0
                    ? model.config().contextLength() : properties.getModel().getContextLength();
            backend = choice.provider().open(model, new BackendSettings(threads, context, properties.getSessions().getMaxActive()));
            return new KvcacheEngine(model, backend, policy, context,
                    budget == null ? OptionalLong.empty() : OptionalLong.of(budget.toBytes()),
                    properties.getSessions().getMaxBytes().toBytes(), properties.getSessions().getExpireAfterAccess());
        } catch (RuntimeException e) {
            if (backend != null) {
                backend.close();
            }
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
    KvcacheChatModel kvcacheChatModel(KvcacheEngine engine, PromptRenderer renderer, KvcacheProperties properties,
                                      ObjectProvider<ObservationRegistry> observations, KvcacheMetrics metrics) {
        return new KvcacheChatModel(engine, renderer, properties, observations.getIfAvailable(() -> ObservationRegistry.NOOP),
                metrics);
    }
}

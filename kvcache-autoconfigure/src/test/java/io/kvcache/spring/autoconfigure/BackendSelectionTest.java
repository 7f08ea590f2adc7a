package io.kvcache.spring.autoconfigure;

import io.kvcache.core.SharedData;
import io.kvcache.core.backend.Backend;
import io.kvcache.core.backend.BackendProvider;
import io.kvcache.core.backend.BackendSelector;
import io.kvcache.core.backend.BackendSettings;
import io.kvcache.core.backend.BackendStatus;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuBackend;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import io.kvcache.cuda.CudaProbe;
import io.kvcache.spring.actuate.KvcacheEndpoint;
import io.kvcache.spring.actuate.KvcacheHealthIndicator;
import io.kvcache.spring.chat.KvcacheEngine;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** kvcache.backend with kvcache-cuda on the class path, on a machine without a usable GPU. */
class BackendSelectionTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(KvcacheAutoConfiguration.class, KvcacheActuatorAutoConfiguration.class))
            .withPropertyValues("spring.jmx.enabled=true", "management.endpoints.jmx.exposure.include=kvcache",
                    "kvcache.model.path=" + SharedData.require("models/tiny/tinystories-656k.gguf"),
                    "kvcache.threads=1", "kvcache.model.context-length=128", "kvcache.chat.max-tokens=64");

    @BeforeEach
    void requireNoGpu() {
        Assumptions.assumeFalse(CudaProbe.status().usable(), "skipped: this machine has a usable GPU");
    }

    @Test
    void theCudaBackendIsInstalledButUnusableHere() {
        BackendProvider cuda = BackendSelector.installed().stream().filter(p -> p.name().equals("cuda")).findFirst()
                .orElseThrow(() -> new AssertionError("kvcache-cuda's provider is not found through ServiceLoader"));
        assertThat(cuda.status().usable()).isFalse();
        assertThat(cuda.status().reason()).isEqualTo(CudaProbe.status().reason()).isNotEmpty();
    }

    @Test
    void autoFallsBackToTheCpuAndReportsIt() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            KvcacheEngine engine = context.getBean(KvcacheEngine.class);
            assertThat(engine.backend().name()).isEqualTo("cpu");
            @SuppressWarnings("unchecked")
            Map<String, Object> backend = (Map<String, Object>) context.getBean(KvcacheEndpoint.class).kvcache().get("backend");
            assertThat(backend).containsEntry("type", "cpu").containsEntry("threads", 1);
            Health health = context.getBean(KvcacheHealthIndicator.class).health();
            assertThat(health.getDetails()).containsEntry("backend", "cpu");
        });
    }

    @Test
    void cudaWithoutAUsableGpuFailsAtStartupWithTheProbesReason() {
        runner.withPropertyValues("kvcache.backend=cuda").run(context -> {
            assertThat(context).hasFailed();
            assertThat(messages(context.getStartupFailure()))
                    .contains("kvcache.backend=cuda: the cuda backend cannot run on this machine: " + CudaProbe.status().reason());
        });
    }

    @Test
    void autoTakesAUsableBackendOfHigherPriorityAndTheEndpointNamesItsDevice() {
        runner.withUserConfiguration(UsableAccelerator.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(KvcacheEngine.class).backend().name()).isEqualTo("accelerator");
            @SuppressWarnings("unchecked")
            Map<String, Object> backend = (Map<String, Object>) context.getBean(KvcacheEndpoint.class).kvcache().get("backend");
            assertThat(backend).containsEntry("type", "accelerator").containsEntry("device", "Accelerator 0");
            assertThat(context.getBean(KvcacheHealthIndicator.class).health().getDetails())
                    .containsEntry("backend", "accelerator").containsEntry("device", "Accelerator 0");
        });
        // a policy the backend refuses sends auto to the cpu
        runner.withUserConfiguration(UsableAccelerator.class).withPropertyValues("kvcache.policy=window")
                .run(context -> assertThat(context.getBean(KvcacheEngine.class).backend().name()).isEqualTo("cpu"));
    }

    /** A usable backend preferred over the cpu, running the model on the CPU under another name. */
    @Configuration(proxyBeanMethods = false)
    static class UsableAccelerator {
        @Bean
        BackendProvider accelerator() {
            return new BackendProvider() {
                @Override
                public String name() {
                    return "accelerator";
                }

                @Override
                public int autoPriority() {
                    return 200;
                }

                @Override
                public BackendStatus status() {
                    return BackendStatus.usable("Accelerator 0");
                }

                @Override
                public Optional<String> refusal(KvCacheConfig policy) {
                    return policy.policy() instanceof io.kvcache.core.kv.FullPolicy ? Optional.empty() : Optional.of("full cache only");
                }

                @Override
                public Backend open(Model model, BackendSettings settings) {
                    CpuBackend cpu = new CpuBackend(model, new ComputePool(settings.threads()));
                    return new Backend() {
                        @Override
                        public String name() {
                            return "accelerator";
                        }

                        @Override
                        public String device() {
                            return "Accelerator 0";
                        }

                        @Override
                        public ForwardPass forwardPass() {
                            return cpu.forwardPass();
                        }

                        @Override
                        public Map<String, Object> details() {
                            return Map.of();
                        }

                        @Override
                        public void close() {
                            cpu.close();
                        }
                    };
                }
            };
        }
    }

    private static String messages(Throwable t) {
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            all.append(c.getMessage()).append('\n');
        }
        return all.toString();
    }
}

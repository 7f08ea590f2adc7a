package io.kvcache.cuda;

import jcuda.CudaException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class CudaProbeTest {

    /** A driver that answers as told. */
    private static class FakeDriver implements DriverQueries {
        private final int version;
        private final int devices;
        private final Device device;

        FakeDriver(int version, int devices, Device device) {
            this.version = version;
            this.devices = devices;
            this.device = device;
        }

        @Override
        public void init() {
        }

        @Override
        public int driverVersion() {
            return version;
        }

        @Override
        public int deviceCount() {
            return devices;
        }

        @Override
        public Device device(int ordinal) {
            return device;
        }
    }

    private static final DriverQueries.Device H100 = new DriverQueries.Device("NVIDIA H100 80GB HBM3", 90, 85_031_714_816L);

    @Test
    void withoutADriverTheProbeReportsWhyAndThrowsNothingOnAnyTouch() {
        Assumptions.assumeFalse(Files.exists(Path.of("/dev/nvidiactl")), "skipped: this machine has an NVIDIA driver");
        // The first touch of JCuda's driver binding fails with UnsatisfiedLinkError, later ones with NoClassDefFoundError.
        CudaStatus first = CudaProbe.probe(JCudaDriverQueries::new);
        CudaStatus second = CudaProbe.probe(JCudaDriverQueries::new);
        for (CudaStatus status : new CudaStatus[] {first, second, CudaProbe.status()}) {
            assertThat(status.usable()).isFalse();
            assertThat(status.reason()).startsWith("no CUDA driver: JCuda's driver binding did not load (").doesNotContain("\n");
            assertThat(status.description()).isEmpty();
        }
        if (!Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libcuda.so.1"))) {
            assertThat(first.reason()).contains("libcuda.so.1: cannot open shared object file");
        }
        assertThat(CudaProbe.status()).isSameAs(CudaProbe.status());
    }

    @Test
    void theGistOfJCudasLoadingReportIsTheMissingLibrary() {
        UnsatisfiedLinkError error = new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Stack trace from the attempt to load the library as a resource:\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared "
                + "object file: No such file or directory\n---(end of nested stack traces)---");
        assertThat(CudaProbe.linkFailure(error)).isEqualTo("libcuda.so.1: cannot open shared object file: No such file or directory");
        NoClassDefFoundError later = new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver");
        assertThat(CudaProbe.linkFailure(later)).isEqualTo("java.lang.NoClassDefFoundError: Could not initialize class jcuda.driver.JCudaDriver");
    }

    @Test
    void aDriverOlderThanThePtxNeedsIsUnusableAndSaysWhichDriverIsNeeded() {
        CudaStatus status = CudaProbe.probe(() -> new FakeDriver(12080, 1, H100));
        assertThat(status.usable()).isFalse();
        assertThat(status.reason()).contains("CUDA 12.8").contains("PTX ISA 9.0").contains("CUDA 13.0").contains("580.65.06");
        assertThat(status.driverVersion()).isEqualTo(12080);
    }

    @Test
    void noGpuOrTooOldAGpuIsUnusable() {
        assertThat(CudaProbe.probe(() -> new FakeDriver(13000, 0, H100)).reason()).isEqualTo("the CUDA driver sees no GPU");
        CudaStatus volta = CudaProbe.probe(() -> new FakeDriver(13000, 1, new DriverQueries.Device("Tesla V100", 70, 16L << 30)));
        assertThat(volta.usable()).isFalse();
        assertThat(volta.reason()).contains("Tesla V100").contains("7.0").contains("7.5");
    }

    @Test
    void aFailingDriverCallIsUnusableWithTheDriversMessage() {
        CudaStatus status = CudaProbe.probe(() -> new FakeDriver(13000, 1, H100) {
            @Override
            public void init() {
                throw new CudaException("CUDA_ERROR_NO_DEVICE");
            }
        });
        assertThat(status.usable()).isFalse();
        assertThat(status.reason()).contains("CUDA_ERROR_NO_DEVICE");
    }

    @Test
    void aRecentDriverAndGpuAreUsableAndDescribed() {
        CudaStatus status = CudaProbe.probe(() -> new FakeDriver(13000, 2, H100));
        assertThat(status.usable()).isTrue();
        assertThat(status.reason()).isEmpty();
        assertThat(status.description()).isEqualTo("NVIDIA H100 80GB HBM3 (compute 9.0, 79.2 GiB, CUDA 13.0 driver)");
    }
}

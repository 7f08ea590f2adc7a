package io.kvcache.core.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class CpuBackendTest {
    @Test
    void processorNameIsTheFirstModelNameOfCpuinfo(@TempDir Path dir) throws IOException {
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, """
                processor\t: 0
                vendor_id\t: AuthenticAMD
                model\t\t: 17
                model name\t: AMD EPYC 9R14 96-Core Processor
                processor\t: 1
                model name\t: AMD EPYC 9R14 96-Core Processor
                """);
        assertThat(CpuBackend.processorName(cpuinfo)).contains("AMD EPYC 9R14 96-Core Processor");
    }

    @Test
    void noProcessorNameWithoutTheLineOrTheFile(@TempDir Path dir) throws IOException {
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, "processor\t: 0\nmodel\t\t: 17\nmodel name\t:\n");
        assertThat(CpuBackend.processorName(cpuinfo)).isEmpty();
        assertThat(CpuBackend.processorName(dir.resolve("absent"))).isEmpty();
    }
}

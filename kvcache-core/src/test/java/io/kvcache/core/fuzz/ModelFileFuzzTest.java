package io.kvcache.core.fuzz;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.SharedData;
import io.kvcache.core.model.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Model files are untrusted input: mutated GGUF files and Hugging Face folders (config.json and the
 * safetensors header) either load or fail with a {@link ModelFormatException}; nothing else
 * escapes, nothing runs away. Seeds: the shared tiny models.
 */
class ModelFileFuzzTest {
    private static final Set<Class<? extends Throwable>> DOCUMENTED = Set.of(ModelFormatException.class);

    @TempDir
    Path dir;

    @Test
    void ggufFiles() throws IOException {
        List<byte[]> seeds = List.of(
                Files.readAllBytes(SharedData.require("models/tiny/stories260K.gguf")));
        Path file = dir.resolve("fuzz.gguf");
        Fuzzing.Report report = Fuzzing.run("gguf", seeds, (seed, all, random) -> Mutations.bytes(seed, all, random, 32 << 10),
                input -> {
                    Files.write(file, input);
                    Model.load(file).close();
                }, DOCUMENTED, Fuzzing.inputs(1000), Fuzzing.BYTES);
        assertThat(report.findings()).isEmpty();
    }

    @Test
    void huggingFaceFolders() throws IOException {
        Path real = SharedData.require("models/tiny/tinystories-656k-hf");
        Path folder = Files.createDirectories(dir.resolve("hf"));
        for (String f : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"}) {
            Files.copy(real.resolve(f), folder.resolve(f));
        }
        byte[] config = Files.readAllBytes(real.resolve("config.json"));
        byte[] safetensors = Files.readAllBytes(real.resolve("model.safetensors"));
        int headerEnd = 8 + (int) ByteBuffer.wrap(safetensors).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] data = Arrays.copyOfRange(safetensors, headerEnd, safetensors.length);
        Files.write(folder.resolve("model.safetensors"), safetensors);
        // An input is the config followed by the safetensors header, split at the first zero byte.
        byte[] seed = join(config, Arrays.copyOf(safetensors, headerEnd));
        List<String> dictionary = List.of("-1", "0", "2147483647", "9223372036854775807", "1e309", "\"F32\"", "\"I64\"",
                "[]", "[-2, 3]", "{}", "null", "\"x\"", ",\"shape\":[2147483647,2147483647]", "\"data_offsets\":[0,0]");
        Fuzzing.Report report = Fuzzing.run("hf-folder", List.of(seed), (s, all, random) -> {
            String[] parts = new String(s, StandardCharsets.ISO_8859_1).split("\0", 2);
            if (parts.length < 2 || parts[1].length() < 8) {
                return seed;
            }
            boolean mutateConfig = random.nextBoolean();
            String part = mutateConfig ? parts[0] : parts[1].substring(8);
            String mutated = random.nextBoolean()
                    ? Mutations.text(part, List.of(part), random, dictionary)
                    : new String(Mutations.bytes(part.getBytes(StandardCharsets.ISO_8859_1),
                    List.of(part.getBytes(StandardCharsets.ISO_8859_1)), random, 4096),
                    StandardCharsets.ISO_8859_1);
            byte[] header = mutateConfig ? parts[1].getBytes(StandardCharsets.ISO_8859_1)
                    : withLength(mutated.getBytes(StandardCharsets.ISO_8859_1), random);
            return join((mutateConfig ? mutated : parts[0]).getBytes(StandardCharsets.ISO_8859_1), header);
        }, input -> {
            int zero = indexOfZero(input);
            Files.write(folder.resolve("config.json"), Arrays.copyOf(input, zero));
            byte[] header = Arrays.copyOfRange(input, zero + 1, input.length);
            Files.write(folder.resolve("model.safetensors"), join2(header, data));
            Model.load(folder).close();
        }, DOCUMENTED, Fuzzing.inputs(500), Fuzzing.BYTES);
        assertThat(report.findings()).isEmpty();
    }

    /** The header with its 8-byte length, usually the true one, sometimes a boundary number. */
    private static byte[] withLength(byte[] json, java.util.Random random) {
        long length = random.nextInt(8) == 0 ? new long[] {0, -1, Long.MAX_VALUE, Long.MAX_VALUE - 4, 1L << 40}[random.nextInt(5)]
                : json.length;
        ByteBuffer b = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(length).put(json).array();
    }

    private static int indexOfZero(byte[] b) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        return b.length - 1;
    }

    private static byte[] join(byte[] config, byte[] header) {
        byte[] out = Arrays.copyOf(config, config.length + 1 + header.length);
        System.arraycopy(header, 0, out, config.length + 1, header.length);
        return out;
    }

    private static byte[] join2(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

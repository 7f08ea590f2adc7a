package io.kvcache.cli;

import io.kvcache.core.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The CLI end to end, in process, against llama.cpp's references. */
class KvcacheCliTest {
    @TempDir
    Path dir;

    private record Run(int exitCode, String out, String err) {
        JsonNode json() {
            return JsonMapper.shared().readTree(out);
        }
    }

    private static Run run(String... args) {
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = KvcacheCli.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    private static JsonNode reference(String name) {
        return JsonMapper.shared().readTree(SharedData.require("reference/" + name + ".json").toFile());
    }

    private static String model(String relative) {
        return SharedData.require("models/" + relative).toString();
    }

    private static String evalText() {
        return SharedData.require("eval/tinystories-eval.txt").toString();
    }

    @Test
    void tokenizeWorksOnAVocabularyOnlyFile() {
        JsonNode ref = reference("llama3-tiny-Q4_K_M").path("tokenize").get(0);
        Run run = run("tokenize", "--model", SharedData.require("reference/vocab/ggml-vocab-llama-bpe.gguf").toString(),
                "--text", ref.path("text").asString(), "--json");
        assertThat(run.exitCode()).isZero();
        assertThat(run.json().path("ids")).isEqualTo(ref.path("ids_add_special"));
    }

    @Test
    void generateMatchesLlamaCppGreedy() {
        JsonNode ref = reference("tinystories-656k").path("greedy").get(0);
        String ids = String.join(",", ref.path("prompt_ids").valueStream().map(JsonNode::asString).toList());
        Run run = run("generate", "--model", model("tiny/tinystories-656k.gguf"), "--prompt-ids", ids,
                "--max-tokens", "32", "--top-probs", "3", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.json().path("generated_ids")).isEqualTo(ref.path("generated_ids"));
        assertThat(run.json().path("text").asString()).isEqualTo(ref.path("content").asString());
        assertThat(run.json().path("steps")).hasSize(32);
        assertThat(run.json().path("decode_tokens_per_second").asDouble()).isPositive();
    }

    @Test
    void perplexityMatchesLlamaCpp() {
        JsonNode ref = reference("tinystories-656k").path("perplexity").get(0);
        Run run = run("perplexity", "--model", model("tiny/tinystories-656k.gguf"),
                "--file", SharedData.require("eval/tinystories-eval.txt").toString(), "--context", "128", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.json().path("chunks").asInt()).isEqualTo(ref.path("n_chunks").asInt());
        assertThat(run.json().path("ppl").asDouble() / ref.path("ppl").asDouble()).isCloseTo(1.0, within(0.01));
    }

    @Test
    void benchReportsSpeedAndMemory() {
        Run run = run("bench", "--model", model("tiny/tinystories-656k-Q8_0.gguf"), "--prompt-tokens", "64",
                "--gen-tokens", "16", "--repetitions", "1", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode json = run.json();
        assertThat(json.path("prefill_tokens_per_second").asDouble()).isPositive();
        assertThat(json.path("decode_tokens_per_second").asDouble()).isPositive();
        assertThat(json.path("peak_heap_bytes").asLong()).isPositive();
        // 80 positions x 2 layers x 4 KV heads x (16 fp16 keys + 16 fp16 values), and per head its
        // positions as one run (8 bytes)
        assertThat(json.path("kv_cache_bytes").asLong()).isEqualTo(80L * 2 * 4 * (32 + 32) + 2 * 4 * 8);
    }

    @Test
    void benchMeasuresConstrainedDecodingInTheSameRun() throws IOException {
        Path grammar = dir.resolve("story.gbnf");
        Files.writeString(grammar, "root ::= (\"Tom\" | \"Lily\") \" went to the \" (\"park\" | \"shop\") \".\"\n");
        Run run = run("bench", "--model", model("tiny/tinystories-656k-Q8_0.gguf"), "--prompt-tokens", "16",
                "--gen-tokens", "16", "--repetitions", "1", "--grammar", grammar.toString(), "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode json = run.json();
        assertThat(json.path("constrained_decode_tokens_per_second").asDouble()).isPositive();
        assertThat(json.path("constrained_decode_ratio").asDouble()).isPositive();
        assertThat(json.path("mask_microseconds_per_token").asDouble()).isPositive();

        Files.writeString(grammar, "root ::= undefined\n");
        Run bad = run("bench", "--model", model("tiny/tinystories-656k-Q8_0.gguf"), "--prompt-tokens", "8",
                "--gen-tokens", "4", "--grammar", grammar.toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("\"undefined\" is used but never defined").doesNotContain("Exception");
    }

    @Test
    void badInputGivesOneClearLine() throws IOException {
        Run missing = run("generate", "--model", dir.resolve("absent.gguf").toString(), "--prompt", "hi");
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).startsWith("error: ").contains("absent.gguf").doesNotContain("Exception");

        byte[] bytes = Files.readAllBytes(Path.of(model("tiny/tinystories-656k.gguf")));
        Path truncated = dir.resolve("cut.gguf");
        Files.write(truncated, Arrays.copyOf(bytes, 5000));
        Run cut = run("generate", "--model", truncated.toString(), "--prompt", "hi");
        assertThat(cut.exitCode()).isEqualTo(2);
        assertThat(cut.err()).contains("truncated");

        Run unencodable = run("tokenize", "--model", model("tiny/tinystories-656k.gguf"), "--text", "naïve");
        assertThat(unencodable.exitCode()).isEqualTo(2);
        assertThat(unencodable.err()).contains("ï");

        String longPrompt = "Once upon a time ".repeat(200);
        Run tooLong = run("generate", "--model", model("tiny/tinystories-656k.gguf"), "--prompt", longPrompt);
        assertThat(tooLong.exitCode()).isEqualTo(2);
        assertThat(tooLong.err()).contains("context");

        Path binary = dir.resolve("latin1.txt");
        Files.write(binary, new byte[] {'c', 'a', 'f', (byte) 0xE9});
        Run notUtf8 = run("perplexity", "--model", model("tiny/tinystories-656k.gguf"), "--file", binary.toString());
        assertThat(notUtf8.exitCode()).isEqualTo(2);
        assertThat(notUtf8.err()).contains("not valid UTF-8");
    }

    @Test
    void evalKvOfTheFullCacheMatchesTheFullCache() {
        Run run = run("eval-kv", "--model", model("tiny/stories260K.gguf"), "--file", evalText(), "--policy", "full",
                "--context", "128", "--chunks", "1", "--recall-probes", "1", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode json = run.json();
        assertThat(json.path("policy").asString()).isEqualTo("full");
        assertThat(json.path("memory_ratio").asDouble()).isEqualTo(1.0);
        assertThat(json.path("top1_agreement").asDouble()).isEqualTo(1.0);
        assertThat(json.path("mean_kl").asDouble()).isCloseTo(0.0, within(1e-9));
        assertThat(json.path("perplexity").asDouble()).isEqualTo(json.path("full_perplexity").asDouble());
        assertThat(json.path("scored_tokens").asInt()).isEqualTo(64);
        assertThat(json.path("seconds").asDouble()).isPositive();
    }

    /** A second turn re-reads the first turn's 63 tokens after BOS (half of 128, less BOS), which the window has evicted. */
    @Test
    void evalKvOfASmallWindowSavesMemory() {
        Run run = run("eval-kv", "--model", model("tiny/stories260K.gguf"), "--file", evalText(), "--policy", "window",
                "--set", "window.recent=16", "--context", "128", "--chunks", "1", "--recall-probes", "1", "--rereads", "1",
                "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode json = run.json();
        assertThat(json.path("settings").path("window.recent").asString()).isEqualTo("16");
        assertThat(json.path("memory_ratio").asDouble()).isLessThan(0.5);
        assertThat(json.path("top1_agreement").asDouble()).isLessThanOrEqualTo(1.0);
        assertThat(json.path("mean_kl").asDouble()).isPositive();
        assertThat(json.path("rereads").asInt()).isEqualTo(1);
        assertThat(json.path("reread_tokens").asInt()).isEqualTo(63);
        assertThat(json.path("reread_mean_kl").asDouble()).isPositive();
    }

    /** At threshold 0 every one of stories260K's 5 x 4 KV heads moves once watched; --set reaches the guardrail. */
    @Test
    void evalKvReportsTheHeadsTheGuardrailMoved() {
        Run run = run("eval-kv", "--model", model("tiny/stories260K.gguf"), "--file", evalText(), "--policy", "window",
                "--set", "window.recent=16", "--set", "guardrail.enabled=true", "--set", "guardrail.threshold=0",
                "--set", "guardrail.max-heads=1", "--context", "128", "--chunks", "1", "--recall-probes", "0", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode json = run.json();
        assertThat(json.path("settings").path("guardrail.enabled").asString()).isEqualTo("true");
        assertThat(json.path("guardrail_moves").asDouble()).isEqualTo(20.0);
    }

    @Test
    void evalKvRejectsABadSettingInOneLine() {
        Run run = run("eval-kv", "--model", model("tiny/stories260K.gguf"), "--file", evalText(),
                "--policy", "mixed-precision", "--set", "mixed-precision.low-bits=5");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith("error: kvcache.mixed-precision.low-bits").doesNotContain("Exception");
        assertThat(run.err().strip()).doesNotContain("\n");
    }

    @Test
    void kvReportWritesATableRowPerPolicyAndAChart() throws IOException {
        Path out = dir.resolve("report");
        // the section scripts/kv-type-report.sh writes survives the rewrite
        Files.createDirectories(out);
        String kept = KvReportCommand.KEPT_FROM + "\n\n## Quality per byte: kv-type\n\n| a | b |\n";
        Files.writeString(out.resolve("kv-quality.md"), "# old report\n\n" + kept);
        Run run = run("kv-report", "--out", out.toString(), "--chunks", "1", "--context", "64", "--text", evalText(),
                "--models", model("tiny/stories260K.gguf") + "," + model("tiny/tinystories-656k.gguf"));
        assertThat(run.exitCode()).as(run.err()).isZero();
        String markdown = Files.readString(out.resolve("kv-quality.md"));
        assertThat(markdown).contains("## stories260K", "## tinystories-656k", "## How measured", "chunks of 64 tokens")
                .doesNotContain("# old report").endsWith("\n" + kept);
        for (String policy : List.of("full", "window", "heavy-hitter", "adaptive", "mixed-precision", "span",
                "layer-condensed")) {
            assertThat(markdown).as(policy).containsPattern("(?m)^\\| " + policy + "[ ,|]");
        }
        byte[] png = Files.readAllBytes(out.resolve("kv-quality.png"));
        assertThat(png).hasSizeGreaterThan(1000);
        assertThat(Arrays.copyOf(png, 8)).containsExactly(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n');
    }

    @Test
    void emptyPromptGeneratesFromBos() {
        Run run = run("generate", "--model", model("tiny/tinystories-656k.gguf"), "--prompt", "", "--max-tokens", "4", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.json().path("prompt_ids")).hasSize(1);
        assertThat(run.json().path("generated_ids")).hasSize(4);
    }
}

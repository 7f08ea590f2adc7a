package io.kvcache.spring.model;

import io.kvcache.core.SharedData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Downloads of a real tiny GGUF from a local HTTP server (there is no internet here, and tests must not need it). */
class ModelDownloaderTest {
    private static final String NAME = "stories260K.gguf";
    private static byte[] model;
    private static String modelSha256;

    @TempDir
    Path cache;

    private final ModelDownloader downloader = ModelDownloader.withDefaultClient();

    @AfterEach
    void closeClient() {
        downloader.close();
    }

    @BeforeAll
    static void readModel() throws Exception {
        model = Files.readAllBytes(SharedData.require("models/tiny/" + NAME));
        modelSha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(model));
    }

    private static ModelUrl url(String value) {
        return ModelUrl.parse(value, "https://huggingface.co");
    }

    @Test
    void downloadsOnceIntoTheCacheAndASecondStartUsesTheFile() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model)) {
            ModelUrl url = url(server.fileUrl());
            Path file = downloader.fetch(url, cache, null);
            assertThat(file).isEqualTo(url.cachePath(cache)).startsWith(cache);
            assertThat(Files.readAllBytes(file)).isEqualTo(model);
            assertThat(file.resolveSibling(NAME + ".part")).doesNotExist();
            assertThat(server.requests()).containsExactly(new ModelServer.Request("/files/" + NAME, null));

            assertThat(downloader.fetch(url, cache, null)).isEqualTo(file);
            assertThat(server.requests()).as("no second download").hasSize(1);
        }
    }

    @Test
    void aTransferCutOffIsResumedWithARangeRequest() throws Exception {
        int cut = 300_000;
        try (ModelServer server = new ModelServer(NAME, model).cutOff(1, cut)) {
            Path file = downloader.fetch(url(server.fileUrl()), cache, modelSha256);
            assertThat(Files.readAllBytes(file)).isEqualTo(model);
            assertThat(server.requests()).hasSize(2);
            assertThat(server.requests().get(0).range()).isNull();
            String resumed = server.requests().get(1).range();
            assertThat(resumed).matches("bytes=\\d+-");
            long from = Long.parseLong(resumed.substring(6, resumed.length() - 1));
            assertThat(from).as("resumed where the first transfer stopped").isPositive().isLessThanOrEqualTo(cut);
        }
    }

    @Test
    void aPartFileLeftByAnEarlierStartIsResumed() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model)) {
            ModelUrl url = url(server.fileUrl());
            Path target = url.cachePath(cache);
            Files.createDirectories(target.getParent());
            Files.write(target.resolveSibling(NAME + ".part"), Arrays.copyOf(model, 123_456));
            assertThat(Files.readAllBytes(downloader.fetch(url, cache, modelSha256))).isEqualTo(model);
            assertThat(server.requests()).containsExactly(new ModelServer.Request("/files/" + NAME, "bytes=123456-"));
        }
    }

    @Test
    void aServerWithoutRangeSupportSendsTheWholeFileAgain() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model).withoutRanges()) {
            ModelUrl url = url(server.fileUrl());
            Path target = url.cachePath(cache);
            Files.createDirectories(target.getParent());
            // What the part file holds is not even the file's beginning: a 200 answer replaces it all.
            byte[] stale = new byte[50_000];
            Arrays.fill(stale, (byte) 7);
            Files.write(target.resolveSibling(NAME + ".part"), stale);
            assertThat(Files.readAllBytes(downloader.fetch(url, cache, modelSha256))).isEqualTo(model);
            assertThat(server.requests()).containsExactly(new ModelServer.Request("/files/" + NAME, "bytes=50000-"));
        }
    }

    @Test
    void aCompletePartFileIsTakenWhenTheServerHasNothingMoreToSend() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model)) {
            ModelUrl url = url(server.fileUrl());
            Path target = url.cachePath(cache);
            Files.createDirectories(target.getParent());
            Files.write(target.resolveSibling(NAME + ".part"), model);
            assertThat(Files.readAllBytes(downloader.fetch(url, cache, null))).isEqualTo(model);
            assertThat(server.requests()).containsExactly(new ModelServer.Request("/files/" + NAME, "bytes=" + model.length + "-"));
        }
    }

    @Test
    void aMatchingDigestIsRememberedAndAMismatchRemovesTheDownloadNamingBothDigests() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model)) {
            ModelUrl url = url(server.fileUrl());
            Path file = downloader.fetch(url, cache, modelSha256);
            assertThat(Files.readString(file.resolveSibling(NAME + ".sha256"))).as("the digest and the size verified").isEqualTo(modelSha256 + " " + model.length);

            String wrong = "0".repeat(64);
            ModelUrl other = url(server.baseUrl() + "/files/" + NAME + "?copy=2");
            assertThatThrownBy(() -> downloader.fetch(other, cache, wrong))
                    .hasMessageContaining("kvcache.model.sha256")
                    .hasMessageContaining("has SHA-256 " + modelSha256)
                    .hasMessageContaining(wrong + " was expected")
                    .hasMessageContaining("the download was removed");
            Path otherTarget = other.cachePath(cache);
            assertThat(otherTarget).doesNotExist();
            assertThat(otherTarget.resolveSibling(NAME + ".part")).doesNotExist();
        }
    }

    @Test
    void aCachedFileThatDoesNotMatchIsReportedAndKept() throws Exception {
        ModelUrl url = url("http://models.example/files/" + NAME);
        Path target = url.cachePath(cache);
        Files.createDirectories(target.getParent());
        Files.write(target, model);
        String wrong = "ab".repeat(32);
        assertThatThrownBy(() -> downloader.fetch(url, cache, wrong))
                .hasMessageContaining(modelSha256).hasMessageContaining(wrong).hasMessageContaining("delete that file");
        assertThat(Files.readAllBytes(target)).as("nothing the user owns is deleted").isEqualTo(model);
        assertThat(downloader.fetch(url, cache, modelSha256)).as("no request: the host does not even exist").isEqualTo(target);
    }

    @Test
    void aMissingFileIsAClearError() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model)) {
            ModelUrl url = url(server.baseUrl() + "/files/none.gguf");
            assertThatThrownBy(() -> downloader.fetch(url, cache, null))
                    .isInstanceOf(ModelNotFoundException.class)
                    .hasMessageContaining("kvcache.model.url=" + url.value())
                    .hasMessageContaining("answered 404");
            assertThat(url.cachePath(cache)).doesNotExist();
        }
    }

    @Test
    void theHuggingFaceShorthandFollowsTheRedirectToTheFileAndResumesThere() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model).cutOff(1, 200_000)) {
            ModelUrl url = ModelUrl.parse("hf:karpathy/tinyllamas/" + NAME, server.baseUrl());
            assertThat(url.uri()).isEqualTo(URI.create(server.baseUrl() + "/karpathy/tinyllamas/resolve/main/" + NAME));
            assertThat(Files.readAllBytes(downloader.fetch(url, cache, modelSha256))).isEqualTo(model);
            assertThat(server.requests()).extracting(ModelServer.Request::path).containsExactly(
                    "/karpathy/tinyllamas/resolve/main/" + NAME, "/files/" + NAME,
                    "/karpathy/tinyllamas/resolve/main/" + NAME, "/files/" + NAME);
            assertThat(server.requests().get(3).range()).as("the range survives the redirect").startsWith("bytes=");
        }
    }

    @Test
    void theHuggingFaceShorthandMapsToResolveUrls() {
        String hf = "https://huggingface.co";
        assertThat(ModelUrl.parse("hf:bartowski/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct-Q8_0.gguf", hf).uri())
                .hasToString("https://huggingface.co/bartowski/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct-Q8_0.gguf");
        assertThat(ModelUrl.parse("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf@9217f5d", hf + "/").uri())
                .hasToString("https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/9217f5d/qwen2.5-0.5b-instruct-q4_k_m.gguf");
        assertThat(ModelUrl.parse("hf:org/repo/sub folder/model.gguf@refs/pr/1", hf).uri())
                .hasToString("https://huggingface.co/org/repo/resolve/refs%2Fpr%2F1/sub%20folder/model.gguf");
        for (String bad : new String[] {"hf:org/model.gguf", "hf:org//model.gguf", "hf:org/repo/model.gguf@", "hf:org/../x/y"}) {
            assertThatThrownBy(() -> ModelUrl.parse(bad, hf)).as(bad)
                    .hasMessageContaining("kvcache.model.url=" + bad).hasMessageContaining("hf:owner/repo/file.gguf");
        }
        assertThatThrownBy(() -> ModelUrl.parse("ftp://host/model.gguf", hf)).hasMessageContaining("http:// or https://");
        assertThatThrownBy(() -> ModelUrl.parse("https://host/", hf)).hasMessageContaining("does not end in a file name");
    }

    @Test
    void cachePathsFollowHostAndPathAndKeepQueriesApart() {
        Path root = Path.of("/cache");
        assertThat(url("https://huggingface.co/o/r/resolve/main/m.gguf").cachePath(root))
                .isEqualTo(Path.of("/cache/https/huggingface.co/o/r/resolve/main/m.gguf"));
        assertThat(url("http://127.0.0.1:8080/a/../m.gguf").cachePath(root)).isEqualTo(Path.of("/cache/http/127.0.0.1_8080/m.gguf"));
        assertThat(url("http://h/m.gguf").cachePath(root)).as("plain http never finds what https fetched")
                .isNotEqualTo(url("https://h/m.gguf").cachePath(root));
        Path one = url("https://h/m.gguf?v=1").cachePath(root);
        Path two = url("https://h/m.gguf?v=2").cachePath(root);
        assertThat(one).isNotEqualTo(two);
        assertThat(one.getFileName()).hasToString("m.gguf");
    }

    @Test
    void credentialsInTheUrlNeverReachAMessage() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model)) {
            String secret = server.baseUrl().replace("http://", "http://user:hunter2@") + "/files/absent.gguf?token=s3cr3t";
            ModelUrl url = url(secret);
            assertThat(url.toString()).doesNotContain("hunter2").doesNotContain("s3cr3t");
            assertThatThrownBy(() -> downloader.fetch(url(server.baseUrl() + "/files/absent.gguf?token=s3cr3t"), cache, null))
                    .isInstanceOf(ModelNotFoundException.class)
                    .hasMessageNotContaining("s3cr3t")
                    .hasMessageContaining("absent.gguf?***");
        }
        assertThat(ModelUrl.redact("https://u:p@h/m.gguf?x=1")).isEqualTo("https://***@h/m.gguf?***");
        assertThatThrownBy(() -> ModelUrl.parse("https://u:pw@/m.gguf", "https://huggingface.co"))
                .hasMessageNotContaining("pw");
    }

    @Test
    void aFileOfUnknownLengthIsRefused() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model).withoutLength()) {
            assertThatThrownBy(() -> downloader.fetch(url(server.fileUrl()), cache, null))
                    .hasMessageContaining("does not say how long the file is");
        }
    }

    @Test
    void aResumeAsksForTheSameVersionAndTakesTheWholeFileWhenItChanged() throws Exception {
        byte[] newer = model.clone();
        newer[newer.length / 2] ^= 1;
        try (ModelServer server = new ModelServer(NAME, model).cutOff(1, 300_000)) {
            String first = server.etag();
            ModelUrl url = url(server.fileUrl());
            // The first answer breaks off; before the resume the file changes on the server.
            Thread changer = Thread.ofVirtual().start(() -> {
                while (server.requests().isEmpty()) {
                    Thread.onSpinWait();
                }
                server.replaceFile(newer);
            });
            Path file = downloader.fetch(url, cache, null);
            changer.join();
            assertThat(server.ifRanges()).first().isEqualTo(first);
            assertThat(Files.readAllBytes(file)).as("no splice of two versions").isEqualTo(newer);
        }
    }

    @Test
    void aPartFileThatIsASymbolicLinkIsNotWrittenThrough() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model)) {
            ModelUrl url = url(server.fileUrl());
            Path target = url.cachePath(cache);
            Files.createDirectories(target.getParent());
            Path victim = Files.writeString(cache.resolve("victim.txt"), "precious");
            Files.createSymbolicLink(target.resolveSibling(NAME + ".part"), victim);
            Path file = downloader.fetch(url, cache, null);
            assertThat(Files.readAllBytes(file)).isEqualTo(model);
            assertThat(Files.readString(victim)).isEqualTo("precious");
        }
    }

    @Test
    void directoriesTheDownloadCreatesAreTheOwnersOnly() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model)) {
            Path file = downloader.fetch(url(server.fileUrl()), cache.resolve("fresh"), null);
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
                    .isEqualTo("rwx------");
        }
    }

    @Test
    void aCachedFileWhoseSizeChangedSinceItWasVerifiedIsHashedAgain() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model)) {
            ModelUrl url = url(server.fileUrl());
            Path file = downloader.fetch(url, cache, modelSha256);
            Files.write(file, new byte[] {1}, java.nio.file.StandardOpenOption.APPEND);
            assertThatThrownBy(() -> downloader.fetch(url, cache, modelSha256))
                    .hasMessageContaining("was expected");
        }
    }

    @Test
    void callersFetchingTheSameFileAtOnceDownloadItOnce() throws Exception {
        try (ModelServer server = new ModelServer(NAME, model)) {
            ModelUrl url = url(server.fileUrl());
            java.util.List<java.util.concurrent.Future<Path>> results;
            try (var callers = java.util.concurrent.Executors.newFixedThreadPool(4)) {
                results = callers.invokeAll(java.util.Collections.nCopies(4, () -> downloader.fetch(url, cache, modelSha256)));
            }
            for (var result : results) {
                assertThat(Files.readAllBytes(result.get())).isEqualTo(model);
            }
            assertThat(server.requests()).as("one download, the others found the file").hasSize(1);
        }
    }
}

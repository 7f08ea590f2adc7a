package io.kvcache.samples.chatbot;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The chat page in headless Chromium (Debian's {@code chromium} and {@code chromium-driver}):
 * a message gets a reply streamed in several pieces, and the KV-cache view draws one heatmap cell
 * per layer and KV head and one memory point per turn. Leaves {@code target/chatbot-screenshot.png}.
 * Skips where the browser is not installed.
 */
class ChatPageBrowserTest extends TinyModelApp {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SCREENSHOT = Path.of("target/chatbot-screenshot.png");

    private ChromeDriver browser;
    private WebDriverWait wait;

    @BeforeAll
    static void requireBrowser() {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "skipped: no headless browser; install Debian's chromium and chromium-driver "
                        + "(apt-get install -y chromium chromium-driver, as .ci/run does)");
    }

    @BeforeEach
    void openBrowser(@TempDir Path profile) {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // The machine has no network: without these Chromium keeps trying to reach Google's services.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--window-size=1360,860");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        wait = new WebDriverWait(browser, Duration.ofSeconds(60));
    }

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void aMessageStreamsAReplyAndTheCacheViewDrawsEveryHead() throws Exception {
        browser.get(url("/"));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("model-info"),
                engine.model().config().name()));

        WebElement first = send("Once upon a time, there was a little cat named Tom.", 1);
        assertThat(Integer.parseInt(first.getDomAttribute("data-chunks"))).as("SSE token events shown").isGreaterThan(1);
        assertThat(first.getText()).isNotBlank();

        wait.until(ExpectedConditions.attributeToBe(By.id("heatmap"), "data-turns", "1"));
        List<WebElement> cells = browser.findElements(By.cssSelector("#heatmap rect.cell"));
        assertThat(cells).hasSize(layersTimesKvHeads());
        Set<String> policies = cells.stream().map(c -> c.getDomAttribute("data-policy")).collect(Collectors.toSet());
        assertThat(policies).doesNotContainNull().isNotEmpty();
        assertThat(browser.findElements(By.cssSelector("#legend li"))).hasSize(policies.size());
        assertThat(browser.findElement(By.cssSelector("#heatmap rect.cell title")).getDomProperty("textContent"))
                .contains("layer 0, KV head 0").contains("entries").contains("held");
        assertThat(browser.findElement(By.id("memory-chart")).getDomAttribute("data-points")).isEqualTo("1");

        send("Tom found a big red ball in the garden.", 2);
        wait.until(ExpectedConditions.attributeToBe(By.id("memory-chart"), "data-points", "2"));
        assertThat(browser.findElements(By.cssSelector("#memory-chart circle.held"))).hasSize(2);
        assertThat(browser.findElement(By.id("memory-summary")).getText()).contains(" of ");

        Files.createDirectories(SCREENSHOT.getParent());
        Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), SCREENSHOT, StandardCopyOption.REPLACE_EXISTING);
        assertThat(Files.size(SCREENSHOT)).isPositive();
    }

    /** Types a message, sends it, and waits for the {@code turn}-th reply to finish streaming. */
    private WebElement send(String message, int turn) {
        browser.findElement(By.id("message")).sendKeys(message);
        browser.findElement(By.id("send")).click();
        return wait.until(page -> {
            List<WebElement> replies = page.findElements(By.cssSelector(".message.assistant"));
            if (replies.size() < turn) {
                return null;
            }
            WebElement reply = replies.get(turn - 1);
            String state = reply.getDomAttribute("data-state");
            if ("failed".equals(state)) {
                throw new AssertionError("the page reported: " + page.findElement(By.cssSelector(".message.error")).getText());
            }
            return "done".equals(state) ? reply : null;
        });
    }
}

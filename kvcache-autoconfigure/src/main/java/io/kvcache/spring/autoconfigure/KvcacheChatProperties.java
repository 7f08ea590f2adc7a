package io.kvcache.spring.autoconfigure;

import io.kvcache.spring.chat.KvcacheChatOptions;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code kvcache.chat.*}: the chat model's default options (defaults from {@link KvcacheChatOptions});
 * a request's own options override them.
 */
@ConfigurationProperties("kvcache.chat")
@Validated
public class KvcacheChatProperties {
    /** Sampling temperature; 0 is greedy. */
    @DecimalMin("0")
    private double temperature = KvcacheChatOptions.DEFAULT_TEMPERATURE;

    /** Nucleus sampling threshold. */
    @DecimalMin(value = "0", inclusive = false) @DecimalMax("1")
    private double topP = KvcacheChatOptions.DEFAULT_TOP_P;

    /** Sample from the k most likely tokens; 0 for all. */
    @Min(0)
    private int topK = KvcacheChatOptions.DEFAULT_TOP_K;

    /** Drop tokens below this fraction of the most likely one's probability. */
    @DecimalMin("0") @DecimalMax(value = "1", inclusive = false)
    private double minP = KvcacheChatOptions.DEFAULT_MIN_P;

    /**
     * Most tokens a reply may have; must be below the context a conversation may reach. A request whose prompt
     * and max tokens together pass that context is refused.
     */
    @Min(1)
    private int maxTokens = KvcacheChatOptions.DEFAULT_MAX_TOKENS;

    /** Strings that end a reply (not included in it). */
    private List<String> stop = new ArrayList<>();

    /** Sampling seed; unset for a different one per request. */
    private Long seed;

    /** Penalty on tokens already in the conversation; 1 for none. */
    @DecimalMin(value = "0", inclusive = false)
    private double repetitionPenalty = KvcacheChatOptions.DEFAULT_REPETITION_PENALTY;

    public double getTemperature() {
        return temperature;
    }

    public void setTemperature(double temperature) {
        this.temperature = temperature;
    }

    public double getTopP() {
        return topP;
    }

    public void setTopP(double topP) {
        this.topP = topP;
    }

    public int getTopK() {
        return topK;
    }

    public void setTopK(int topK) {
        this.topK = topK;
    }

    public double getMinP() {
        return minP;
    }

    public void setMinP(double minP) {
        this.minP = minP;
    }

    public int getMaxTokens() {
        return maxTokens;
    }

    public void setMaxTokens(int maxTokens) {
        this.maxTokens = maxTokens;
    }

    public List<String> getStop() {
        return stop;
    }

    public void setStop(List<String> stop) {
        this.stop = stop;
    }

    public Long getSeed() {
        return seed;
    }

    public void setSeed(Long seed) {
        this.seed = seed;
    }

    public double getRepetitionPenalty() {
        return repetitionPenalty;
    }

    public void setRepetitionPenalty(double repetitionPenalty) {
        this.repetitionPenalty = repetitionPenalty;
    }

    /** These settings as the chat model's default options. */
    public KvcacheChatOptions options() {
        return KvcacheChatOptions.builder().temperature(temperature).topP(topP).topK(topK).minP(minP)
                .maxTokens(maxTokens).stopSequences(stop).seed(seed).repetitionPenalty(repetitionPenalty).build();
    }
}

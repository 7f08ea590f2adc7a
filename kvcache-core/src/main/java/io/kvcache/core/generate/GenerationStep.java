package io.kvcache.core.generate;

import java.util.List;

/**
 * One generated token: its id, the text it completed (may be empty while a UTF-8 character or a
 * possible stop string is pending), and the most likely candidates when they were asked for.
 */
public record GenerationStep(int token, String text, List<TokenProbability> top) {
}

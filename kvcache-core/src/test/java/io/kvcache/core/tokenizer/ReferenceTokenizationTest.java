package io.kvcache.core.tokenizer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every tokenize entry of the llama.cpp reference JSONs against the GGUF tokenizer of the same model. */
class ReferenceTokenizationTest {
    static Stream<ReferenceJson.Entry> entries() {
        return ReferenceJson.entries();
    }

    @ParameterizedTest(name = "{0}", allowZeroInvocations = true)
    @MethodSource("entries")
    void matchesLlamaCpp(ReferenceJson.Entry entry) {
        Tokenizer tokenizer = TestTokenizers.gguf(entry.model());
        String text = entry.text();
        if (entry.isError()) {
            TokenizationException e = assertThrows(TokenizationException.class, () -> tokenizer.encode(text, false, true));
            assertTrue(e.getMessage().contains("U+"), e.getMessage());
            return;
        }
        int[] ids = entry.ids("ids");
        int[] idsAddSpecial = entry.ids("ids_add_special");
        assertAll(
                () -> assertArrayEquals(ids, tokenizer.encode(text, false, true), "ids"),
                () -> assertArrayEquals(idsAddSpecial, tokenizer.encode(text, true, true), "ids_add_special"),
                () -> assertArrayEquals(entry.ids("ids_no_parse_special"), tokenizer.encode(text, false, false),
                        "ids_no_parse_special"),
                () -> {
                    for (int i = 0; i < ids.length; i++) {
                        assertArrayEquals(entry.piece(i), tokenizer.tokenBytes(ids[i]), "piece " + i + " (token " + ids[i] + ")");
                    }
                },
                () -> assertEquals(entry.json().get("detokenized").asString(), tokenizer.decode(ids), "detokenized"),
                () -> assertEquals(entry.json().get("detokenized_add_special").asString(), tokenizer.decode(idsAddSpecial),
                        "detokenized_add_special"));
    }
}

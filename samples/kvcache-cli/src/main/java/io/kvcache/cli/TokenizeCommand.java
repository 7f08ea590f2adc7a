package io.kvcache.cli;

import io.kvcache.core.format.GgufFile;
import io.kvcache.core.tokenizer.Tokenizer;
import io.kvcache.core.tokenizer.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** Prints the token ids of a text (BOS added where the model adds it); works on vocabulary-only GGUF files. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Tokenize text with a model's tokenizer (a vocabulary-only GGUF file will do).")
final class TokenizeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    @Option(names = "--text", required = true, description = "Text to tokenize")
    String text;

    @Option(names = "--no-special", description = "Do not add BOS/EOS")
    boolean noSpecial;

    @Override
    public Integer call() {
        int[] ids;
        List<String> pieces = new ArrayList<>();
        if (Files.isDirectory(options.model)) {
            ids = tokenize(Tokenizers.fromHuggingFace(options.model), pieces);
        } else {
            try (GgufFile file = GgufFile.open(options.model)) {
                ids = tokenize(Tokenizers.fromGguf(file.metadata()), pieces);
            }
        }
        if (options.json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("ids", ids);
            out.put("pieces", pieces);
            System.out.println(Json.write(out));
        } else {
            System.out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        }
        return 0;
    }

    private int[] tokenize(Tokenizer tokenizer, List<String> pieces) {
        int[] ids = tokenizer.encode(text, !noSpecial, true);
        for (int id : ids) {
            pieces.add(tokenizer.decode(new int[] {id}));
        }
        return ids;
    }
}

package io.kvcache.core.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateSyntaxException;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.TagNode;

import java.util.Objects;

/**
 * {@code {% filter trim %}...{% endfilter %}}: the block's rendered text through the filters
 * named in the tag ({@code trim}, {@code indent(2)|upper}), the same allowed filters an expression
 * may use (firefunction v2 trims its system prompt with it). Jinjava has no such tag.
 */
final class FilterBlockTag implements Tag {
    private static final long serialVersionUID = 1L;
    /** The name the block's text goes by while its filters run, in a scope of its own. */
    private static final String TEXT = "filter_block_text";

    @Override
    public String getName() {
        return "filter";
    }

    @Override
    public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
        String filters = tagNode.getHelpers().strip();
        if (filters.isEmpty()) {
            throw new TemplateSyntaxException(filters, "Tag 'filter' expects the filters to apply, as {% filter trim %}",
                    tagNode.getLineNumber(), tagNode.getStartPosition());
        }
        String text = GenerationTag.body(tagNode, interpreter);
        try (var scope = interpreter.enterScope()) {
            interpreter.getContext().put(TEXT, text);
            return Objects.toString(interpreter.resolveELExpression(TEXT + "|" + filters, tagNode.getLineNumber()), "");
        }
    }
}

package io.kvcache.core.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.util.LengthLimitingStringBuilder;

/**
 * {@code {% generation %}...{% endgeneration %}}: transformers marks the assistant's own text with
 * it (to mask training losses); a prompt renders its body unchanged, as llama.cpp does (LFM2.5 and
 * Laguna wrap assistant turns in it).
 */
final class GenerationTag implements Tag {
    private static final long serialVersionUID = 1L;

    @Override
    public String getName() {
        return "generation";
    }

    @Override
    public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
        return body(tagNode, interpreter);
    }

    /** The rendered children of a block tag, held to the output limit. */
    static String body(TagNode tagNode, JinjavaInterpreter interpreter) {
        LengthLimitingStringBuilder out = new LengthLimitingStringBuilder(interpreter.getConfig().getMaxOutputSize());
        for (Node child : tagNode.getChildren()) {
            out.append(child.render(interpreter).getValue());
        }
        return out.toString();
    }
}

'use strict';

// The conversation on the page: each message goes to /api/chat/stream, the reply grows as its
// server-sent events arrive, and the finished turn is handed to the KV-cache view. The server keeps
// the history; the page only remembers the conversation id it was given.
(() => {
  const messages = document.getElementById('messages');
  const form = document.getElementById('composer');
  const input = document.getElementById('message');
  const sendButton = document.getElementById('send');
  const newButton = document.getElementById('new-conversation');
  const status = document.getElementById('status');
  let conversation = null;

  function addMessage(kind, text) {
    const div = document.createElement('div');
    div.className = 'message ' + kind;
    div.textContent = text;
    messages.append(div);
    messages.scrollTop = messages.scrollHeight;
    return div;
  }

  function addUsage(reply) {
    const div = document.createElement('div');
    div.className = 'usage';
    div.textContent = `${reply.usage.promptTokens} prompt tokens · ${reply.usage.completionTokens} reply tokens · `
      + (reply.finishReason === 'LENGTH' ? 'stopped at the token limit' : 'end of turn');
    messages.append(div);
    messages.scrollTop = messages.scrollHeight;
  }

  // The events of an event-stream body, as they arrive. fetch rather than EventSource, because the
  // message travels in a POST body. Events are separated by a blank line; data is JSON.
  async function* serverSentEvents(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) {
        return;
      }
      buffer += decoder.decode(value, {stream: true});
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) {
            name = line.slice(6).trim();
          } else if (line.startsWith('data:')) {
            data.push(line.slice(5));
          }
        }
        if (data.length > 0) {
          yield {name, data: JSON.parse(data.join('\n'))};
        }
      }
    }
  }

  async function send(text) {
    addMessage('user', text);
    const reply = addMessage('assistant', '');
    reply.dataset.chunks = '0';
    reply.dataset.state = 'streaming';
    sendButton.disabled = true;
    status.textContent = 'generating…';
    try {
      const response = await fetch('api/chat/stream', {
        method: 'POST',
        headers: {'Content-Type': 'application/json', 'Accept': 'text/event-stream'},
        body: JSON.stringify({conversation, message: text}),
      });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        throw new Error(problem.detail || `${response.status} ${response.statusText}`);
      }
      for await (const event of serverSentEvents(response.body)) {
        if (event.name === 'start') {
          conversation = event.data.conversation;
        } else if (event.name === 'token') {
          reply.textContent += event.data.text;
          reply.dataset.chunks = String(Number(reply.dataset.chunks) + 1);
          messages.scrollTop = messages.scrollHeight;
        } else if (event.name === 'done') {
          conversation = event.data.conversation;
          reply.dataset.state = 'done';
          addUsage(event.data);
          status.textContent = '';
          await KvcacheView.showTurn(event.data.kvcacheConversation);
        } else if (event.name === 'error') {
          throw new Error(event.data.message);
        }
      }
      if (reply.dataset.state !== 'done') {
        throw new Error('the reply ended before it was complete');
      }
    } catch (error) {
      reply.dataset.state = 'failed';
      addMessage('error', error.message);
      status.textContent = '';
    } finally {
      sendButton.disabled = false;
      input.focus();
    }
  }

  form.addEventListener('submit', event => {
    event.preventDefault();
    const text = input.value.trim();
    if (text === '' || sendButton.disabled) {
      return;
    }
    input.value = '';
    send(text);
  });

  input.addEventListener('keydown', event => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  newButton.addEventListener('click', () => {
    conversation = null;
    messages.replaceChildren();
    KvcacheView.reset();
    input.focus();
  });

  KvcacheView.showModel();
  input.focus();
})();

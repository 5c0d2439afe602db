// The get_weather tool the tool-call tests share: its definition, a question that asks
// for it, and the Qwen-style call the bigram models are trained to answer with.
'use strict';

const CALL = '<tool_call>{"name":"get_weather","arguments":{"city": "Paris"}}</tool_call>';
const TOOLS = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the current weather in a given city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}];
const ASK = [{ role: 'user', content: "What's the weather like in Paris today?" }];

module.exports = { CALL, TOOLS, ASK };

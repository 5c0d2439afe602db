// The conversations rendered into tests/fixtures/chat_template/goldens.json. Each is the
// context our ChatTemplate::Render receives (the generator adds the special tokens,
// tools=null, documents=null and add_generation_prompt=false first, as transformers'
// apply_chat_template does). `only` limits a conversation to some templates.

const weatherTool = {
  type: "function",
  function: {
    name: "get_current_weather",
    description: "Get the current weather in a given location",
    parameters: {
      type: "object",
      properties: {
        location: { type: "string", description: "The city and country, e.g. \"Paris, France\"" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
      },
      required: ["location"],
    },
  },
};

const timeTool = {
  type: "function",
  function: {
    name: "get_time",
    description: "Current time in a time zone — returns ISO-8601 (UTC±hh:mm)",
    parameters: { type: "object", properties: { tz: { type: "string" } }, required: ["tz"] },
  },
};

const searchTool = {
  type: "function",
  function: {
    name: "search_docs",
    description: "Search the documentation. Supports \"quoted phrases\", back\\slashes and 日本語.",
    parameters: {
      type: "object",
      properties: {
        query: { type: "string" },
        filters: {
          type: "object",
          properties: {
            tags: { type: "array", items: { type: "string" } },
            max_results: { type: "integer", minimum: 1, maximum: 50 },
            score: { type: "number" },
          },
        },
        exact: { type: "boolean" },
      },
      required: ["query"],
    },
  },
};

const call = (name, args, id) => ({ id, type: "function", function: { name, arguments: args } });

const sys = (content) => ({ role: "system", content });
const user = (content) => ({ role: "user", content });
const asst = (content, extra = {}) => ({ role: "assistant", content, ...extra });
const tool = (content, extra = {}) => ({ role: "tool", content, ...extra });

export const conversations = [
  { name: "user_only", context: { messages: [user("Hello!")], add_generation_prompt: true } },
  { name: "user_only_no_generation_prompt", context: { messages: [user("Hello!")] } },
  {
    name: "system_and_user",
    context: { messages: [sys("You are a helpful assistant."), user("What is 2+2?")], add_generation_prompt: true },
  },
  {
    name: "multi_turn_with_system",
    context: {
      messages: [
        sys("You are a concise assistant."),
        user("Name a prime number."),
        asst("7"),
        user("Another one?"),
      ],
      add_generation_prompt: true,
    },
  },
  {
    name: "multi_turn_ending_with_assistant",
    context: {
      messages: [user("Hi"), asst("Hello! How can I help?"), user("Tell me a joke."), asst("Why did the chicken cross the road?")],
      add_generation_prompt: false,
    },
  },
  {
    name: "unicode_and_emoji",
    context: {
      messages: [
        user("Привет! 你好 🌍 café — “quotes” ½ naïve"),
        asst("¡Hola! 👋🏽 Ça va? ✓"),
        user("日本語で答えて 🙏"),
      ],
      add_generation_prompt: true,
    },
  },
  { name: "empty_user_content", context: { messages: [user("")], add_generation_prompt: true } },
  {
    name: "empty_assistant_content",
    context: { messages: [user("Say nothing."), asst(""), user("Thanks")], add_generation_prompt: true },
  },
  {
    name: "whitespace_around_content",
    context: {
      messages: [sys("  Be brief.  \n"), user("  padded question \n\n"), asst("\n  padded answer\t\n"), user("\tok ")],
      add_generation_prompt: true,
    },
  },
  {
    name: "template_syntax_in_content",
    context: {
      messages: [user("Literal {{ braces }}, {% tags %}, {# comments #} and a \\backslash \"quote\" 'apostrophe'"), asst("Line1\nLine2\r\n\ttabbed")],
      add_generation_prompt: false,
    },
  },
  {
    name: "content_as_text_parts",
    only: ["gemma3"],
    context: {
      messages: [
        { role: "system", content: [{ type: "text", text: "System from parts." }] },
        { role: "user", content: [{ type: "text", text: "Describe this. " }, { type: "text", text: "  Second part.  " }] },
        { role: "assistant", content: [{ type: "text", text: "A picture." }] },
        { role: "user", content: [{ type: "image" }, { type: "text", text: "And this one?" }] },
      ],
      add_generation_prompt: true,
    },
  },
  {
    name: "thinking_in_history",
    context: {
      messages: [
        user("What is 17*3?"),
        asst("<think>\n17*3 = 51\n</think>\n\n51"),
        user("And 17*4?"),
      ],
      add_generation_prompt: true,
    },
  },
  {
    name: "thinking_in_last_assistant",
    context: {
      messages: [user("What is 17*3?"), asst("<think>\nLet me compute: 17*3 = 51.\n</think>\n\nIt is 51.")],
    },
  },
  {
    name: "reasoning_content_field",
    context: {
      messages: [user("Pick a colour."), asst("Blue.", { reasoning_content: "\nThe user wants any colour; blue is common.\n" })],
    },
  },
  { name: "enable_thinking_false", context: { messages: [user("Quick answer: capital of France?")], add_generation_prompt: true, enable_thinking: false } },
  { name: "enable_thinking_true", context: { messages: [user("Think hard: capital of France?")], add_generation_prompt: true, enable_thinking: true } },
  {
    name: "tools_with_system",
    context: {
      messages: [sys("You are a weather bot."), user("What's the weather in Paris?")],
      tools: [weatherTool, timeTool],
      add_generation_prompt: true,
    },
  },
  {
    name: "tools_without_system",
    context: { messages: [user("Search the docs for \"rate limits\".")], tools: [searchTool], add_generation_prompt: true },
  },
  {
    name: "tool_call_round_trip",
    context: {
      messages: [
        user("What's the weather in Paris in celsius?"),
        asst("", { tool_calls: [call("get_current_weather", { location: "Paris, France", unit: "celsius" }, "call_1")] }),
        tool("{\"temperature\": 18, \"condition\": \"cloudy\"}", { tool_call_id: "call_1", name: "get_current_weather" }),
      ],
      tools: [weatherTool],
      add_generation_prompt: true,
    },
  },
  {
    name: "tool_call_string_arguments",
    context: {
      messages: [
        user("Time in Tokyo?"),
        asst("", { tool_calls: [call("get_time", "{\"tz\": \"Asia/Tokyo\"}", "call_9")] }),
        tool("2025-01-01T09:00:00+09:00", { tool_call_id: "call_9" }),
        asst("It is 09:00 in Tokyo."),
      ],
      tools: [timeTool],
      add_generation_prompt: false,
    },
  },
  {
    name: "tool_call_with_content",
    context: {
      messages: [
        sys("Use tools when needed."),
        user("Weather in Oslo?"),
        asst("Let me check that for you.", { tool_calls: [call("get_current_weather", { location: "Oslo, Norway" }, "c1")] }),
        tool("{\"temperature\": -3}"),
        asst("It is -3 °C in Oslo."),
        user("Thanks!"),
      ],
      tools: [weatherTool],
      add_generation_prompt: true,
    },
  },
  {
    name: "parallel_tool_calls",
    context: {
      messages: [
        user("Weather in Paris and Rome?"),
        asst("", {
          tool_calls: [
            call("get_current_weather", { location: "Paris, France" }, "a"),
            call("get_current_weather", { location: "Rome, Italy" }, "b"),
          ],
        }),
        tool("{\"temperature\": 18}", { tool_call_id: "a" }),
        tool("{\"temperature\": 24}", { tool_call_id: "b" }),
      ],
      tools: [weatherTool],
      add_generation_prompt: true,
    },
  },
  {
    name: "multi_step_tool_calls",
    context: {
      messages: [
        user("Find the docs about quotas, then tell me the time in UTC."),
        asst("<think>\nSearch first.\n</think>\n\n", { tool_calls: [call("search_docs", { query: "quotas", filters: { tags: ["api", "limits"], max_results: 3, score: 0.75 }, exact: false }, "s1")] }),
        tool("Quota docs: 100 requests per minute."),
        asst("", { tool_calls: [call("get_time", { tz: "UTC" }, "t1")] }),
        tool("2025-05-01T12:00:00Z"),
        asst("<think>\nDone.\n</think>\n\nQuotas are 100 rpm; it is 12:00 UTC."),
      ],
      tools: [searchTool, timeTool],
      add_generation_prompt: false,
    },
  },
  {
    name: "tool_response_in_user_turn",
    context: {
      messages: [
        user("Look it up."),
        asst("<think>\nCall the tool.\n</think>\n\nCalling."),
        user("<tool_response>\n{\"ok\": true}\n</tool_response>"),
      ],
      add_generation_prompt: true,
    },
  },
  { name: "system_only", context: { messages: [sys("You only answer in French.")], add_generation_prompt: true } },
  {
    name: "second_system_message",
    context: {
      messages: [sys("First system."), user("One."), sys("Second system."), user("Two.")],
      add_generation_prompt: true,
    },
  },
  {
    name: "roles_not_alternating",
    context: { messages: [user("First."), user("Second in a row.")], add_generation_prompt: true },
  },
  {
    name: "tool_call_null_content",
    context: {
      messages: [
        user("Weather in Lima?"),
        asst(null, { tool_calls: [call("get_current_weather", { location: "Lima, Peru" }, "l1")] }),
        tool("{\"temperature\": 20}"),
      ],
      tools: [weatherTool],
      add_generation_prompt: true,
    },
  },
  {
    name: "custom_date_string",
    only: ["llama3.1"],
    context: { messages: [sys("Today matters."), user("What day is it?")], date_string: "15 Mar 2025", add_generation_prompt: true },
  },
  {
    name: "tools_in_system_message",
    only: ["llama3.1"],
    context: {
      messages: [sys("You can call functions."), user("Weather in Berlin?")],
      tools: [weatherTool, searchTool],
      tools_in_user_message: false,
      add_generation_prompt: true,
    },
  },
  {
    name: "tool_arguments_scalars",
    context: {
      messages: [
        user("Search with every kind of argument."),
        asst("", { tool_calls: [call("search_docs", { query: "tab\there \"quoted\" \\ ünïcode 🚀 \u0001", filters: { tags: [], max_results: 10, score: 0.125 }, exact: true, note: null }, "x")] }),
        tool("no results"),
        asst("Nothing found."),
      ],
      tools: [searchTool],
      add_generation_prompt: false,
    },
  },
  {
    name: "long_conversation",
    context: {
      messages: [
        sys("Count with the user."),
        ...Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? user(`Number ${i + 1}?`) : asst(`${i + 1}`))),
      ],
      add_generation_prompt: true,
    },
  },
  {
    name: "extra_message_fields",
    context: {
      messages: [
        { role: "user", content: "Hi there", name: "alice", id: 42 },
        { role: "assistant", content: "Hello Alice", refusal: null },
        { role: "user", content: "Bye" },
      ],
      add_generation_prompt: false,
    },
  },
];

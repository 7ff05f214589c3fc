// Runs one handler of aws-cdk-lib's Provider framework, as synthesized into the cloud assembly, with its AWS calls
// and its response to CloudFormation sent to the Python test over HTTP (tests/lambdas/test_provider_framework.py).
//
// argv: <framework asset folder> <handler: onEvent | isComplete> <bridge URL>; the event is read from stdin.
// The framework's outbound.js requires @aws-sdk/client-lambda and @aws-sdk/client-sfn (the Lambda Node.js
// runtime provides them) and https for the PUT to CloudFormation's pre-signed URL. They are replaced before
// framework.js loads, because its compiled imports copy the modules' properties at require time.
"use strict";

const Module = require("module");
const http = require("http");
const https = require("https");

const [assetDir, handlerName, bridge] = process.argv.slice(2);

function post(path, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(`${bridge}${path}`, { method: "POST" }, (response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => resolve(text ? JSON.parse(text) : {}));
    });
    request.on("error", reject);
    request.end(JSON.stringify(body));
  });
}

const stubs = {
  "@aws-sdk/client-lambda": {
    Lambda: class {
      async invoke(request) {
        // The SDK's InvokeCommandOutput: Payload is bytes, FunctionError is set when the function raised.
        const reply = await post("/invoke", { FunctionName: request.FunctionName, Payload: request.Payload });
        return { StatusCode: 200, Payload: Buffer.from(reply.Payload, "utf8"), FunctionError: reply.FunctionError };
      }
    },
    waitUntilFunctionActiveV2: async () => ({ state: "SUCCESS" }),
  },
  "@aws-sdk/client-sfn": {
    SFN: class {
      async startExecution(request) {
        return post("/start-execution", request);
      }
    },
  },
};
const load = Module._load;
Module._load = function (request, ...rest) {
  return Object.prototype.hasOwnProperty.call(stubs, request) ? stubs[request] : load.call(this, request, ...rest);
};

https.request = (options, callback) => {
  let body = "";
  return {
    on() {},
    write(chunk) {
      body += chunk;
    },
    end() {
      post("/response", { hostname: options.hostname, path: options.path, method: options.method, headers: options.headers, body })
        .then(() => callback({ statusCode: 200, resume() {} }));
    },
  };
};

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const framework = require(`${assetDir}/framework.js`);
  try {
    await framework[handlerName](JSON.parse(input));
    await post("/done", { outcome: "returned" });
  } catch (error) {
    await post("/done", { outcome: "threw", name: error.constructor.name, message: String(error.message) });
  }
});

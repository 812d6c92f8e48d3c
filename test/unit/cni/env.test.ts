import { describe, expect, it } from "@jest/globals";
import { interfaceNameProblem, parseCniArgs, podIdentity, readCniEnv, requirePod } from "../../../cni/env.js";
import { K8S_ARGS, cniCode, cniError } from "./helpers.js";

const add = { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c0ffee", CNI_NETNS: "/var/run/netns/x", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin" };

describe("readCniEnv", () => {
  it("reads every CNI_* variable", () => {
    expect(readCniEnv({ ...add, CNI_ARGS: K8S_ARGS })).toEqual({
      command: "ADD",
      containerID: "c0ffee",
      netns: "/var/run/netns/x",
      ifName: "eth0",
      args: K8S_ARGS,
      path: "/opt/cni/bin",
    });
  });

  it.each([
    ["no CNI_COMMAND", { ...add, CNI_COMMAND: undefined }, /\[CNI_COMMAND\] missing/],
    ["an empty CNI_COMMAND", { ...add, CNI_COMMAND: "" }, /\[CNI_COMMAND\] missing/],
    ["an unknown command", { ...add, CNI_COMMAND: "UPDATE" }, /unknown CNI_COMMAND: UPDATE/],
    ["a lower-case command", { ...add, CNI_COMMAND: "add" }, /unknown CNI_COMMAND: add/],
    ["ADD without CNI_CONTAINERID", { ...add, CNI_CONTAINERID: undefined }, /\[CNI_CONTAINERID\] missing/],
    ["ADD without CNI_NETNS", { ...add, CNI_NETNS: "" }, /\[CNI_NETNS\] missing/],
    ["ADD without CNI_IFNAME", { ...add, CNI_IFNAME: undefined }, /\[CNI_IFNAME\] missing/],
    ["ADD without all three", { CNI_COMMAND: "ADD" }, /\[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME\] missing/],
    ["CHECK without CNI_NETNS", { ...add, CNI_COMMAND: "CHECK", CNI_NETNS: undefined }, /\[CNI_NETNS\] missing/],
    ["DEL without CNI_CONTAINERID", { ...add, CNI_COMMAND: "DEL", CNI_CONTAINERID: undefined }, /\[CNI_CONTAINERID\] missing/],
    ["a container id with a slash", { ...add, CNI_CONTAINERID: "../etc" }, /invalid characters in CNI_CONTAINERID/],
    ["a container id starting with '-'", { ...add, CNI_CONTAINERID: "-x" }, /invalid characters in CNI_CONTAINERID/],
    ["an interface name of 16 bytes", { ...add, CNI_IFNAME: "a234567890123456" }, /invalid CNI_IFNAME: it is longer than 15 bytes/],
    ["an interface name with ':'", { ...add, CNI_IFNAME: "eth0:1" }, /invalid CNI_IFNAME/],
  ])("refuses %s with code 4", (_what, env, msg) => {
    const err = cniError(() => readCniEnv(env));
    expect(err.code).toBe(4);
    expect(err.message).toMatch(msg);
  });

  it.each([
    ["DEL without CNI_NETNS (the runtime may have lost the namespace)", { ...add, CNI_COMMAND: "DEL", CNI_NETNS: undefined }],
    ["ADD without CNI_PATH (this plugin runs no other plugin)", { ...add, CNI_PATH: undefined }],
    ["VERSION with nothing else", { CNI_COMMAND: "VERSION" }],
    ["GC with nothing else", { CNI_COMMAND: "GC" }],
    ["STATUS with nothing else", { CNI_COMMAND: "STATUS" }],
    ["a 15-byte interface name", { ...add, CNI_IFNAME: "a23456789012345" }],
    ["a container id with '_', '.' and '-'", { ...add, CNI_CONTAINERID: "k8s_POD.web-0" }],
  ])("accepts %s", (_what, env) => {
    expect(cniCode(() => readCniEnv(env))).toBeUndefined();
  });

  it.each([
    ["", "it is empty"],
    [".", "it is '.' or '..'"],
    ["..", "it is '.' or '..'"],
    ["eth 0", "it contains '/', ':' or whitespace"],
    ["a/b", "it contains '/', ':' or whitespace"],
    ["net1", undefined],
  ])("interface name %j: %s", (name, problem) => {
    expect(interfaceNameProblem(name)).toBe(problem);
  });
});

describe("CNI_ARGS", () => {
  it("parses the pairs a Kubernetes runtime passes", () => {
    const args = parseCniArgs(K8S_ARGS);
    expect(Object.fromEntries(args)).toEqual({
      IgnoreUnknown: "1",
      K8S_POD_NAMESPACE: "default",
      K8S_POD_NAME: "web-0",
      K8S_POD_INFRA_CONTAINER_ID: "abc123",
      K8S_POD_UID: "0b8e-11",
    });
    expect(podIdentity(args)).toEqual({ namespace: "default", name: "web-0", uid: "0b8e-11", infraContainerID: "abc123" });
  });

  it("keeps '=' inside a value, skips empty segments and allows unknown keys without IgnoreUnknown", () => {
    expect(Object.fromEntries(parseCniArgs("A=b=c;;K8S_POD_NAME=p;"))).toEqual({ A: "b=c", K8S_POD_NAME: "p" });
    expect(parseCniArgs("").size).toBe(0);
  });

  it.each(["K8S_POD_NAME", "=x", "A=1;junk"])("refuses the malformed pair in %j with code 4", (text) => {
    expect(cniCode(() => parseCniArgs(text))).toBe(4);
  });

  it("has no Pod when neither name nor namespace is given, and refuses half an identity", () => {
    expect(podIdentity(parseCniArgs("IgnoreUnknown=1"))).toBeUndefined();
    expect(cniError(() => podIdentity(parseCniArgs("K8S_POD_NAME=web-0"))).message).toBe("CNI_ARGS has no K8S_POD_NAMESPACE");
    expect(cniError(() => podIdentity(parseCniArgs("K8S_POD_NAMESPACE=default;K8S_POD_NAME="))).message).toBe("CNI_ARGS has no K8S_POD_NAME");
  });

  it("requires the Pod for ADD and CHECK with code 4, and leaves uid optional", () => {
    expect(cniCode(() => requirePod(parseCniArgs("IgnoreUnknown=1")))).toBe(4);
    expect(requirePod(parseCniArgs("K8S_POD_NAMESPACE=a;K8S_POD_NAME=b"))).toEqual({ namespace: "a", name: "b" });
  });
});

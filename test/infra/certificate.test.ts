import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DnsValidatedCertificate,
  validateDnsValidatedCertificateArgs,
  validationNames,
} from "../../components/certificate";
import { render, resolve } from "../../harness/component";
import { itThrowsBeforeAnyChild, itValidatesEachCase } from "./support/validation";

describe("DnsValidatedCertificate: the names that need a validation record", () => {
  const cases: Array<[string, string, string[], string[]]> = [
    ["one name", "app.example.com", [], ["app.example.com"]],
    ["a name and its wildcard", "app.example.com", ["*.app.example.com"], ["app.example.com"]],
    ["a wildcard alone", "*.example.com", [], ["example.com"]],
    [
      "two names and a repeat",
      "app.example.com",
      ["www.example.com", "app.example.com"],
      ["app.example.com", "www.example.com"],
    ],
  ];
  for (const [label, domainName, alternatives, expected] of cases) {
    it(`GIVEN ${label} THEN there is one record per distinct validated name`, () => {
      assert.deepEqual(validationNames(domainName, alternatives), expected);
    });
  }
});

describe("DnsValidatedCertificate: argument validation", () => {
  const zoneId = "Z0123456789ABC";
  const many = Array.from({ length: 10 }, (_, i) => `n${i}.example.com`);
  const cases: Array<
    [string, Parameters<typeof validateDnsValidatedCertificateArgs>[0], RegExp | null]
  > = [
    [
      "a name and a wildcard",
      { domainName: "app.example.com", subjectAlternativeNames: ["*.app.example.com"], zoneId },
      null,
    ],
    [
      "an uppercase name",
      { domainName: "App.example.com", zoneId },
      /domainName: "App.example.com" must be a lowercase DNS name/,
    ],
    ["a bare label", { domainName: "localhost", zoneId }, /domainName: "localhost"/],
    [
      "a bad alternative name",
      { domainName: "app.example.com", subjectAlternativeNames: ["a..b"], zoneId },
      /subjectAlternativeNames: "a..b"/,
    ],
    [
      "eleven names",
      { domainName: "app.example.com", subjectAlternativeNames: many, zoneId },
      /11 names exceed ACM's default quota of 10/,
    ],
  ];
  itValidatesEachCase(validateDnsValidatedCertificateArgs, cases);

  itThrowsBeforeAnyChild(
    ({ provider }) =>
      new DnsValidatedCertificate("bad", { domainName: "App", zoneId }, { provider }),
    /DnsValidatedCertificate "bad": invalid arguments/,
  );
});

describe("DnsValidatedCertificate: resources", () => {
  const build = () =>
    render(
      ({ providerFor }) =>
        new DnsValidatedCertificate(
          "app-cert",
          {
            domainName: "app.example.com",
            subjectAlternativeNames: ["*.app.example.com", "www.example.com"],
            zoneId: "Z0123456789ABC",
          },
          { provider: providerFor("eu-west-1") },
        ),
    );

  it("GIVEN the eu-west-1 provider WHEN built THEN the certificate is requested there with DNS validation", async () => {
    const { ofType } = await build();
    const certificates = ofType("aws:acm/certificate:Certificate");
    assert.equal(certificates.length, 1);
    assert.equal(certificates[0]!.region, "eu-west-1");
    assert.equal(certificates[0]!.inputs.validationMethod, "DNS");
    assert.equal(certificates[0]!.inputs.domainName, "app.example.com");
    assert.equal(
      ofType("aws:acm/certificateValidation:CertificateValidation")[0]!.region,
      "eu-west-1",
    );
  });

  it("GIVEN a name, its wildcard and another name THEN there is one validation record per distinct name, from ACM's options, taking over none", async () => {
    const { ofType } = await build();
    const records = ofType("aws:route53/record:Record");
    assert.deepEqual(records.map((r) => r.name).sort(), [
      "app-cert-validation-app.example.com",
      "app-cert-validation-www.example.com",
    ]);
    const options = ofType("aws:acm/certificate:Certificate")[0]!.state
      .domainValidationOptions as Array<Record<string, string>>;
    for (const record of records) {
      const domain = record.name.replace("app-cert-validation-", "");
      const option = options.find((candidate) => candidate.domainName === domain)!;
      assert.equal(record.inputs.zoneId, "Z0123456789ABC");
      assert.equal(record.inputs.name, option.resourceRecordName);
      assert.equal(record.inputs.type, "CNAME");
      assert.deepEqual(record.inputs.records, [option.resourceRecordValue]);
      assert.equal(record.inputs.allowOverwrite, false);
    }
  });

  it("GIVEN the records WHEN validated THEN the validation waits on every record and the ARN comes from it", async () => {
    const { value: certificate, ofType } = await build();
    const validation = ofType("aws:acm/certificateValidation:CertificateValidation")[0]!;
    const fqdns = ofType("aws:route53/record:Record").map((r) => r.state.fqdn);
    assert.deepEqual(
      [...(validation.inputs.validationRecordFqdns as string[])].sort(),
      [...fqdns].sort(),
    );
    const arn = await resolve(certificate.certificateArn);
    assert.equal(arn, ofType("aws:acm/certificate:Certificate")[0]!.state.arn);
    assert.match(arn, /^arn:aws:acm:eu-west-1:/);
  });
});

describe("DnsValidatedCertificate: one validation record for the certificates of every region", () => {
  const zoneId = "Z0123456789ABC";
  const build = () =>
    render(({ providerFor }) => {
      const primary = new DnsValidatedCertificate(
        "primary-cert",
        { domainName: "app.example.com", zoneId },
        { provider: providerFor("us-east-1") },
      );
      const secondary = new DnsValidatedCertificate(
        "secondary-cert",
        { domainName: "app.example.com", zoneId, validationRecordsOf: primary },
        { provider: providerFor("eu-west-1") },
      );
      return { primary, secondary };
    });

  it("GIVEN a second region's certificate for the same name THEN it writes no record and waits on the first one's", async () => {
    const { ofType } = await build();
    const records = ofType("aws:route53/record:Record");
    assert.deepEqual(
      records.map((record) => record.name),
      ["primary-cert-validation-app.example.com"],
    );
    const validations = ofType("aws:acm/certificateValidation:CertificateValidation");
    assert.equal(validations.length, 2);
    for (const validation of validations) {
      assert.deepEqual(validation.inputs.validationRecordFqdns, [records[0]!.state.fqdn]);
    }
  });

  it("GIVEN certificates for different names THEN sharing records is refused, naming both sets", async () => {
    await render(({ provider }) => {
      const primary = new DnsValidatedCertificate(
        "primary-cert",
        { domainName: "app.example.com", zoneId },
        { provider },
      );
      assert.throws(
        () =>
          new DnsValidatedCertificate(
            "other-cert",
            { domainName: "www.example.com", zoneId, validationRecordsOf: primary },
            { provider },
          ),
        /validationRecordsOf: that certificate validates app\.example\.com, this one www\.example\.com/,
      );
      return primary;
    });
  });
});

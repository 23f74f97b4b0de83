/** aicert/aibom: AIBOM documents and verifyAibom. The document formats are specified in spec/ (work in progress). */
export {};
